import type { ParsedInput } from '../../shared/api'
import type { HistoryResults } from '../../shared/contract/history'
import { MigLabError } from '../../shared/errors'
import { exportRuns } from '../migration/export'
import { groupRuns, thesisView } from '../migration/groups'
import type { Services } from '../services'
import { importBundle, parseBundle } from '../store/bundle'
import { version } from './app'

type HistoryHandlers = { [M in keyof HistoryResults]: (input: ParsedInput<M>) => Promise<HistoryResults[M]> }

/** The run history: reads and annotates the local SQLite history only; nothing here opens SSH. */
export function historyHandlers(s: Services): HistoryHandlers {
  const h = s.history
  const changed = () => s.bus.emit({ type: 'runs.changed' })
  return {
    'runs.query': async ({ filter, sort, offset, limit }) => h.query(filter, sort, offset, limit),
    'runs.facets': async () => h.facets(),
    'runs.record': async ({ id }) => h.record(id),
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
    'runs.import': async ({ base64, text }) => {
      const data = base64 !== undefined ? Buffer.from(base64, 'base64') : Buffer.from(text ?? '', 'utf8')
      if (!data.length) throw new MigLabError('bundle_invalid', 'The file is empty.')
      const report = importBundle(s.db, parseBundle(data))
      changed()
      return report
    },
    'runs.group': async ({ filter, groupBy, baseline }) => groupRuns(h.groupable(filter), groupBy, baseline),
    'runs.thesis': async ({ filter, baseline }) => thesisView(h.groupable(filter), baseline),
  }
}
