import { gunzipSync, gzipSync } from 'node:zlib'
import { z } from 'zod'
import type { ImportReport, RunFilter } from '../../shared/contract/history'
import { runStatuses, tagText } from '../../shared/contract/history'
import { MigLabError } from '../../shared/errors'
import type { Db } from './db'
import { runLogLines, whereOf } from './history'

/**
 * The portable history: every run with its tags, notes, star, samples, events, log lines and
 * transcripts, keyed by the run's uuid (row ids differ between machines). The JSON export is this
 * document; the bundle is the same document gzip'd into one file.
 */
export const BUNDLE_FORMAT = 'miglab-runs'
export const BUNDLE_VERSION = 1
/** Limits on what an import reads, so a hostile or broken file cannot exhaust memory. */
export const BUNDLE_LIMITS = { compressedBytes: 150 * 1024 * 1024, jsonBytes: 400 * 1024 * 1024, runs: 200_000, pointsPerSeries: 5_000_000 }

const text = (max: number) => z.string().max(max)
const iso = text(40).refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date')
const finite = z.number().finite()
const record = z.record(text(200), z.unknown())

const bundleRun = z
  .object({
    uuid: z.uuid(),
    lab: text(64).nullable(),
    vm: text(128).min(1),
    strategy: text(64).min(1),
    workload: text(1100).min(1),
    status: z.enum(runStatuses),
    params: record,
    environment: record,
    metrics: z.record(text(200), finite),
    error: z.object({ code: text(200), message: text(20_000) }).passthrough().nullable(),
    startedAt: iso,
    endedAt: iso.nullable(),
    starred: z.boolean(),
    tags: z.array(tagText).max(1000),
    notes: z.array(z.object({ text: text(20_000).min(1), at: iso }).strict()).max(10_000),
    samples: z.record(
      text(200),
      z
        .object({ t: z.array(finite).max(BUNDLE_LIMITS.pointsPerSeries), v: z.array(finite).max(BUNDLE_LIMITS.pointsPerSeries) })
        .strict()
        .refine((s) => s.t.length === s.v.length, 'as many times as values'),
    ),
    events: z.array(z.object({ tMs: finite, kind: text(200), data: z.unknown() }).strict()).max(1_000_000),
    logs: z.array(z.object({ at: iso, level: z.enum(['info', 'warn', 'error']), message: text(100_000) }).strict()).max(1_000_000),
    transcripts: z.array(z.object({ title: text(500), text: text(50_000_000), at: iso }).strict()).max(1000),
  })
  .strict()
export type BundleRun = z.infer<typeof bundleRun>

const header = z.object({ format: z.literal(BUNDLE_FORMAT), version: z.number().int().min(1) }).passthrough()
const bundle = z
  .object({ format: z.literal(BUNDLE_FORMAT), version: z.literal(BUNDLE_VERSION), exportedAt: iso, app: z.object({ version: text(64) }).strict(), runs: z.array(bundleRun).max(BUNDLE_LIMITS.runs) })
  .strict()
export type Bundle = z.infer<typeof bundle>

interface RunRow {
  id: number
  uuid: string
  lab: string | null
  vm: string
  strategy: string
  workload: string
  status: BundleRun['status']
  params: string
  environment: string
  metrics: string
  error: string | null
  started_at: string
  ended_at: string | null
  starred: number
}

/** The runs a filter matches, as a bundle document (oldest first). */
export function buildBundle(db: Db, filter: RunFilter, appVersion: string): Bundle {
  const where = whereOf(filter)
  const rows = db.prepare(`SELECT r.*, l.name AS lab FROM runs r LEFT JOIN labs l ON l.id = r.lab_id ${where.sql} ORDER BY r.id`).all(...where.args) as RunRow[]
  const tags = db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').pluck()
  const notes = db.prepare('SELECT text, at FROM notes WHERE run_id = ? ORDER BY at, id')
  const samples = db.prepare('SELECT series, t_ms, value FROM samples WHERE run_id = ? ORDER BY series, t_ms').raw()
  const events = db.prepare('SELECT t_ms, kind, data FROM events WHERE run_id = ? ORDER BY t_ms, id').raw()
  const logs = runLogLines(db)
  const transcripts = db.prepare('SELECT title, text, at FROM transcripts WHERE run_id = ? ORDER BY at, id')
  const runs = rows.map((r): BundleRun => {
    const series: BundleRun['samples'] = {}
    for (const [name, t, v] of samples.iterate(r.id) as Iterable<[string, number, number]>) {
      const s = (series[name] ??= { t: [], v: [] })
      s.t.push(t)
      s.v.push(v)
    }
    return {
      uuid: r.uuid,
      lab: r.lab,
      vm: r.vm,
      strategy: r.strategy,
      workload: r.workload,
      status: r.status,
      params: JSON.parse(r.params) as Record<string, unknown>,
      environment: JSON.parse(r.environment) as Record<string, unknown>,
      metrics: JSON.parse(r.metrics) as Record<string, number>,
      error: r.error ? (JSON.parse(r.error) as BundleRun['error']) : null,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      starred: r.starred === 1,
      tags: tags.all(r.id) as string[],
      notes: notes.all(r.id) as BundleRun['notes'],
      samples: series,
      events: (events.all(r.id) as [number, string, string][]).map(([tMs, kind, data]) => ({ tMs, kind, data: JSON.parse(data) as unknown })),
      logs: logs(r.id).map(({ at, level, message }) => ({ at, level, message })),
      transcripts: transcripts.all(r.id) as BundleRun['transcripts'],
    }
  })
  return { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, exportedAt: new Date().toISOString(), app: { version: appVersion }, runs }
}

export const gzipBundle = (b: Bundle): Buffer => gzipSync(JSON.stringify(b), { level: 6 })

const invalid = (message: string, detail: Record<string, unknown> = {}) =>
  new MigLabError('bundle_invalid', message, { hint: 'Import a .miglab bundle or JSON export written by MigLab.', ...detail })

/** Reads a bundle (gzip) or JSON export, checking sizes, format, version and every field. */
export function parseBundle(data: Buffer): Bundle {
  if (data.length > BUNDLE_LIMITS.compressedBytes) throw invalid(`The file is ${Math.round(data.length / 1048576)} MiB; MigLab imports at most ${BUNDLE_LIMITS.compressedBytes / 1048576} MiB.`)
  let json: Buffer = data
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      json = gunzipSync(data, { maxOutputLength: BUNDLE_LIMITS.jsonBytes })
    } catch (err) {
      throw invalid(`The bundle could not be unpacked: ${(err as Error).message}.`)
    }
  } else if (data.length > BUNDLE_LIMITS.jsonBytes) throw invalid('The file is too large to import.')
  let doc: unknown
  try {
    doc = JSON.parse(json.toString('utf8'))
  } catch {
    throw invalid('The file is neither a MigLab bundle nor a MigLab JSON export (it is not gzip’d JSON or JSON).')
  }
  const head = header.safeParse(doc)
  if (!head.success) throw invalid('The file is not a MigLab runs bundle (no "format": "miglab-runs" with a version).')
  if (head.data.version > BUNDLE_VERSION) {
    throw new MigLabError('bundle_too_new', `This bundle was written by a newer MigLab (bundle format ${head.data.version}; this MigLab reads format ${BUNDLE_VERSION} and older).`, {
      hint: 'Update MigLab on this machine, then import the bundle again.',
    })
  }
  const parsed = bundle.safeParse(doc)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }))
    throw invalid(`The bundle does not have the shape MigLab writes (${parsed.error.issues.length} problem(s), first at ${issues[0]?.path || 'the top'}: ${issues[0]?.message}).`, { issues })
  }
  return parsed.data
}

/**
 * Merges a bundle into this history in one transaction: runs whose uuid is already here are
 * skipped (re-importing is harmless); labs are matched by name, else the run keeps no lab.
 */
export function importBundle(db: Db, b: Bundle): ImportReport {
  const report: ImportReport = { format: b.version, imported: [], skipped: [] }
  const exists = db.prepare('SELECT id FROM runs WHERE uuid = ?').pluck()
  const labId = db.prepare('SELECT id FROM labs WHERE name = ?').pluck()
  const insRun = db.prepare(
    `INSERT INTO runs (uuid, lab_id, job_id, vm, strategy, workload, params, environment, status, metrics, error, started_at, ended_at, starred)
     VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insTag = db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)')
  const insNote = db.prepare('INSERT INTO notes (run_id, text, at) VALUES (?, ?, ?)')
  const insSample = db.prepare('INSERT INTO samples (run_id, t_ms, series, value) VALUES (?, ?, ?, ?)')
  const insEvent = db.prepare('INSERT INTO events (run_id, t_ms, kind, data) VALUES (?, ?, ?, ?)')
  const insLog = db.prepare('INSERT INTO logs (at, level, message, job_id, run_id) VALUES (?, ?, ?, NULL, ?)')
  const insTranscript = db.prepare('INSERT INTO transcripts (node_id, run_id, title, text, at) VALUES (NULL, ?, ?, ?, ?)')
  const seen = new Set<string>()
  db.transaction(() => {
    for (const r of b.runs) {
      const uuid = r.uuid.toLowerCase()
      const here = exists.get(uuid) as number | undefined
      if (here !== undefined) {
        report.skipped.push({ uuid, reason: `already in this history as run #${here}` })
        continue
      }
      if (seen.has(uuid)) {
        report.skipped.push({ uuid, reason: 'appears twice in the bundle' })
        continue
      }
      seen.add(uuid)
      const lab = r.lab === null ? null : ((labId.get(r.lab) as number | undefined) ?? null)
      // A run the exporting MigLab was still measuring cannot resume here.
      const status = r.status === 'running' ? 'interrupted' : r.status
      const id = Number(
        insRun.run(uuid, lab, r.vm, r.strategy, r.workload, JSON.stringify(r.params), JSON.stringify(r.environment), status, JSON.stringify(r.metrics), r.error ? JSON.stringify(r.error) : null, r.startedAt, r.endedAt, r.starred ? 1 : 0)
          .lastInsertRowid,
      )
      for (const t of r.tags) insTag.run(id, t)
      for (const n of r.notes) insNote.run(id, n.text, n.at)
      for (const [series, s] of Object.entries(r.samples)) for (let i = 0; i < s.t.length; i++) insSample.run(id, s.t[i], series, s.v[i])
      for (const e of r.events) insEvent.run(id, e.tMs, e.kind, JSON.stringify(e.data ?? {}))
      for (const l of r.logs) insLog.run(l.at, l.level, l.message, id)
      for (const t of r.transcripts) insTranscript.run(id, t.title, t.text, t.at)
      report.imported.push({ uuid, id })
    }
  })()
  return report
}
