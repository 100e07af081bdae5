import { randomUUID } from 'node:crypto'
import type { ParsedInput } from '../../shared/api'
import type { HistoryResults } from '../../shared/contract/history'
import { MigLabError } from '../../shared/errors'
import { exportRuns } from '../migration/export'
import { groupRuns, thesisView } from '../migration/groups'
import type { Services } from '../services'
import { BUNDLE_LIMITS, importBundle, parseBundle } from '../store/bundle'
import { runDetailThinned } from '../store/run-detail'
import { version } from './app'

type HistoryHandlers = { [M in keyof HistoryResults]: (input: ParsedInput<M>) => Promise<HistoryResults[M]> }

/** The run history: reads and annotates the local SQLite history only; nothing here opens SSH. */
export function historyHandlers(s: Services): HistoryHandlers {
  const h = s.history
  const changed = () => s.bus.emit({ type: 'runs.changed' })
  // Large files arrive in parts; an upload is kept for ten minutes and never beyond the import limit.
  const uploads = new Map<string, { parts: Buffer[]; bytes: number; timer: NodeJS.Timeout }>()
  const dropUpload = (id: string) => {
    clearTimeout(uploads.get(id)?.timer)
    uploads.delete(id)
  }
  return {
    'runs.query': async ({ filter, sort, offset, limit }) => h.query(filter, sort, offset, limit),
    'runs.facets': async () => h.facets(),
    'runs.record': async ({ id }) => h.record(id),
    'runs.detail': async ({ id, maxPoints }) => {
      const run = runDetailThinned(s.db, id, Math.floor(maxPoints / 4))
      if (!run) throw new MigLabError('run_not_found', `No run with id ${id}.`, { hint: 'Reload the Runs page.' })
      return run
    },
    'runs.tag': async ({ ids, tag }) => {
      const changes = h.tag(ids, tag)
      changed()
      return { changed: changes }
    },
    'runs.untag': async ({ ids, tag }) => {
      const changes = h.untag(ids, tag)
      changed()
      return { changed: changes }
    },
    'runs.star': async ({ id, starred }) => {
      h.star(id, starred)
      changed()
      return { starred }
    },
    'runs.note.add': async ({ id, text }) => {
      const note = h.addNote(id, text)
      changed()
      return note
    },
    'runs.note.delete': async ({ noteId }) => {
      const deleted = h.deleteNote(noteId)
      changed()
      return { deleted }
    },
    'runs.export': async ({ format, labId, filter }) => exportRuns(s.db, { format, labId, filter, appVersion: version() }),
    'runs.upload': async ({ upload, base64 }) => {
      const id = upload ?? randomUUID()
      const u = uploads.get(id) ?? (upload ? undefined : { parts: [], bytes: 0, timer: setTimeout(() => dropUpload(id), 600_000) })
      if (!u) throw new MigLabError('upload_not_found', 'That upload is unknown or expired.', { hint: 'Choose the file again.' })
      const part = Buffer.from(base64, 'base64')
      if (u.bytes + part.length > BUNDLE_LIMITS.compressedBytes) {
        dropUpload(id)
        throw new MigLabError('bundle_invalid', `The file is larger than the ${BUNDLE_LIMITS.compressedBytes / 1048576} MiB MigLab imports.`)
      }
      u.parts.push(part)
      u.bytes += part.length
      u.timer.unref?.()
      uploads.set(id, u)
      return { upload: id, bytes: u.bytes }
    },
    'runs.import': async ({ base64, text, upload }) => {
      let data: Buffer
      if (upload !== undefined) {
        const u = uploads.get(upload)
        if (!u) throw new MigLabError('upload_not_found', 'That upload is unknown or expired.', { hint: 'Choose the file again.' })
        dropUpload(upload)
        data = Buffer.concat(u.parts)
      } else data = base64 !== undefined ? Buffer.from(base64, 'base64') : Buffer.from(text ?? '', 'utf8')
      if (!data.length) throw new MigLabError('bundle_invalid', 'The file is empty.')
      const report = importBundle(s.db, parseBundle(data))
      changed()
      return report
    },
    'runs.group': async ({ filter, groupBy, baseline }) => groupRuns(h.groupable(filter), groupBy, baseline),
    'runs.thesis': async ({ filter, baseline }) => thesisView(h.groupable(filter), baseline),
  }
}
