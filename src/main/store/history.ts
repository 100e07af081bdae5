import type { Facets, RunFilter, RunListItem, RunNote, RunRecord, RunSort } from '../../shared/contract/history'
import type { LogLine, RunStatus } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { GroupableRun } from '../migration/groups'
import { now, type Db } from './db'
import { toSummary, type RunRow } from './runs'

/** A JSON path for a stored key, always bound as a parameter (keys are also checked by the contract). */
export const jsonPath = (key: string): string => `$."${key.replace(/["\\]/g, '')}"`
const like = (word: string): string => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

/** The WHERE clause of a filter: every condition in SQL with bound values, so 10 000 runs filter in the database. */
export function whereOf(f: RunFilter): { sql: string; args: unknown[] } {
  const parts: string[] = []
  const args: unknown[] = []
  const inList = (column: string, values: unknown[] | undefined) => {
    if (!values?.length) return
    parts.push(`${column} IN (${values.map(() => '?').join(',')})`)
    args.push(...values)
  }
  inList('r.strategy', f.strategies)
  inList('r.workload', f.workloads)
  inList('r.lab_id', f.labIds)
  inList('r.status', f.statuses)
  inList('r.id', f.ids)
  for (const tag of f.tags ?? []) {
    parts.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)')
    args.push(tag)
  }
  if (f.starred !== undefined) parts.push(f.starred ? 'r.starred = 1' : 'r.starred = 0')
  if (f.from) {
    parts.push('r.started_at >= ?')
    args.push(new Date(f.from).toISOString())
  }
  if (f.to) {
    parts.push('r.started_at <= ?')
    args.push(new Date(f.to).toISOString())
  }
  for (const m of f.metrics ?? []) {
    parts.push('json_extract(r.metrics, ?) IS NOT NULL')
    args.push(jsonPath(m.key))
    if (m.min !== undefined) {
      parts.push('json_extract(r.metrics, ?) >= ?')
      args.push(jsonPath(m.key), m.min)
    }
    if (m.max !== undefined) {
      parts.push('json_extract(r.metrics, ?) <= ?')
      args.push(jsonPath(m.key), m.max)
    }
  }
  for (const word of (f.text ?? '').split(/\s+/).filter(Boolean)) {
    const w = like(word)
    parts.push(
      `(r.vm LIKE ? ESCAPE '\\' OR r.strategy LIKE ? ESCAPE '\\' OR r.workload LIKE ? ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\')
        OR EXISTS (SELECT 1 FROM notes n WHERE n.run_id = r.id AND n.text LIKE ? ESCAPE '\\'))`,
    )
    args.push(w, w, w, w, w)
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args }
}

const DURATION = `(julianday(r.ended_at) - julianday(r.started_at)) * 86400000.0`

function orderOf(sort: RunSort | undefined): { sql: string; args: unknown[] } {
  const dir = sort?.desc === false ? 'ASC' : 'DESC'
  const by = sort?.by ?? 'started'
  const fixed: Record<string, string> = { started: 'r.started_at', id: 'r.id', vm: 'r.vm', strategy: 'r.strategy', workload: 'r.workload', status: 'r.status', duration: DURATION, lab: 'l.name' }
  if (fixed[by]) return { sql: `ORDER BY ${fixed[by]} ${dir}, r.id ${dir}`, args: [] }
  const [kind, key] = [by.slice(0, by.indexOf(':')), by.slice(by.indexOf(':') + 1)]
  const column = kind === 'metric' ? 'r.metrics' : 'r.params'
  // Runs without the value sort last either way.
  return { sql: `ORDER BY json_extract(${column}, ?) IS NULL, json_extract(${column}, ?) ${dir}, r.id ${dir}`, args: [jsonPath(key), jsonPath(key)] }
}

interface ListRow extends RunRow {
  uuid: string
  starred: number
  lab: string | null
  params: string
  duration_ms: number | null
  notes: number
}

const toItem = (r: ListRow): RunListItem => ({
  ...toSummary(r),
  uuid: r.uuid,
  starred: r.starred === 1,
  lab: r.lab,
  durationMs: r.duration_ms === null ? null : Math.round(r.duration_ms),
  params: JSON.parse(r.params) as Record<string, unknown>,
  notes: r.notes,
})

/** Tags, notes and stars on runs, and the filtered, sorted, paginated list the Runs page and `miglab runs list` show. */
export class HistoryRepo {
  constructor(private readonly db: Db) {}

  query(filter: RunFilter, sort: RunSort | undefined, offset: number, limit: number): { total: number; offset: number; runs: RunListItem[] } {
    const where = whereOf(filter)
    const total = (this.db.prepare(`SELECT count(*) FROM runs r ${where.sql}`).pluck().get(...where.args) as number) ?? 0
    const order = orderOf(sort)
    const rows = this.db
      .prepare(
        `SELECT r.*, l.name AS lab, ${DURATION} AS duration_ms,
           (SELECT group_concat(tag, char(31)) FROM tags t WHERE t.run_id = r.id) AS tags,
           (SELECT count(*) FROM notes n WHERE n.run_id = r.id) AS notes
         FROM runs r LEFT JOIN labs l ON l.id = r.lab_id ${where.sql} ${order.sql} LIMIT ? OFFSET ?`,
      )
      .all(...where.args, ...order.args, limit, offset) as ListRow[]
    return { total, offset, runs: rows.map(toItem) }
  }

  /** Ids of the runs a filter matches, oldest first. */
  ids(filter: RunFilter): number[] {
    const where = whereOf(filter)
    return this.db.prepare(`SELECT r.id FROM runs r ${where.sql} ORDER BY r.id`).pluck().all(...where.args) as number[]
  }

  /** What grouping and comparing need of the matching runs: fields, parameters, metrics. */
  groupable(filter: RunFilter): GroupableRun[] {
    const where = whereOf(filter)
    const rows = this.db
      .prepare(`SELECT r.id, r.strategy, r.workload, r.vm, l.name AS lab, json_extract(r.environment, '$.driver') AS driver, r.status, r.params, r.metrics FROM runs r LEFT JOIN labs l ON l.id = r.lab_id ${where.sql} ORDER BY r.id`)
      .all(...where.args) as (Omit<GroupableRun, 'params' | 'metrics'> & { params: string; metrics: string })[]
    return rows.map((r) => ({ ...r, params: JSON.parse(r.params) as Record<string, unknown>, metrics: JSON.parse(r.metrics) as Record<string, number> }))
  }

  facets(): Facets {
    const col = (sql: string) => this.db.prepare(sql).pluck().all() as string[]
    const span = this.db.prepare('SELECT min(started_at) AS first, max(started_at) AS last, count(*) AS total FROM runs').get() as { first: string | null; last: string | null; total: number }
    return {
      total: span.total,
      strategies: col('SELECT DISTINCT strategy FROM runs ORDER BY 1'),
      workloads: col('SELECT DISTINCT workload FROM runs ORDER BY 1'),
      labs: this.db.prepare('SELECT id, name FROM labs WHERE id IN (SELECT DISTINCT lab_id FROM runs) ORDER BY name').all() as { id: number; name: string }[],
      statuses: col('SELECT DISTINCT status FROM runs ORDER BY 1') as RunStatus[],
      tags: col('SELECT DISTINCT tag FROM tags ORDER BY 1'),
      // Keys as stored: the history shows whatever the runner measured, old keys and new.
      metricKeys: col('SELECT DISTINCT j.key FROM runs r, json_each(r.metrics) j ORDER BY 1'),
      paramKeys: col('SELECT DISTINCT j.key FROM runs r, json_each(r.params) j ORDER BY 1'),
      first: span.first,
      last: span.last,
    }
  }

  record(id: number): RunRecord {
    const r = this.db.prepare('SELECT r.id, r.uuid, r.starred, l.name AS lab FROM runs r LEFT JOIN labs l ON l.id = r.lab_id WHERE r.id = ?').get(id) as
      | { id: number; uuid: string; starred: number; lab: string | null }
      | undefined
    if (!r) throw notFound(id)
    const logs = runLogLines(this.db)(id).map((l): LogLine => ({ at: l.at, level: l.level, message: l.message, ...(l.job_id ? { jobId: l.job_id } : {}), runId: id }))
    return {
      id: r.id,
      uuid: r.uuid,
      starred: r.starred === 1,
      lab: r.lab,
      tags: this.tagsOf(id),
      notes: this.notesOf(id),
      logs,
      transcripts: this.db.prepare('SELECT id, title, text, at FROM transcripts WHERE run_id = ? ORDER BY at, id').all(id) as RunRecord['transcripts'],
    }
  }

  tagsOf = (id: number): string[] => this.db.prepare('SELECT tag FROM tags WHERE run_id = ? ORDER BY tag').pluck().all(id) as string[]
  notesOf = (id: number): RunNote[] => this.db.prepare('SELECT id, text, at FROM notes WHERE run_id = ? ORDER BY at, id').all(id) as RunNote[]

  tag(ids: number[], tag: string): number {
    this.requireRuns(ids)
    const ins = this.db.prepare('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)')
    return this.db.transaction(() => ids.reduce((n, id) => n + ins.run(id, tag).changes, 0))()
  }

  untag(ids: number[], tag: string): number {
    const del = this.db.prepare('DELETE FROM tags WHERE run_id = ? AND tag = ?')
    return this.db.transaction(() => ids.reduce((n, id) => n + del.run(id, tag).changes, 0))()
  }

  star(id: number, starred: boolean): void {
    if (this.db.prepare('UPDATE runs SET starred = ? WHERE id = ?').run(starred ? 1 : 0, id).changes === 0) throw notFound(id)
  }

  addNote(id: number, text: string, at = now()): RunNote {
    this.requireRuns([id])
    const noteId = Number(this.db.prepare('INSERT INTO notes (run_id, text, at) VALUES (?, ?, ?)').run(id, text, at).lastInsertRowid)
    return { id: noteId, text, at }
  }

  deleteNote(noteId: number): boolean {
    return this.db.prepare('DELETE FROM notes WHERE id = ?').run(noteId).changes > 0
  }

  private requireRuns(ids: number[]): void {
    const found = this.db.prepare('SELECT count(*) FROM runs WHERE id IN (SELECT value FROM json_each(?))').pluck().get(JSON.stringify(ids)) as number
    if (found !== new Set(ids).size) throw new MigLabError('run_not_found', ids.length === 1 ? `No run with id ${ids[0]}.` : 'Some of these runs do not exist.', { hint: 'Reload the Runs page.' })
  }
}

/** A run's log: lines logged for it, and its job's lines while it ran (the runner logs per job). */
export function runLogLines(db: Db): (id: number) => { at: string; level: LogLine['level']; message: string; job_id: string | null }[] {
  const q = db.prepare(
    `SELECT l.at, l.level, l.message, l.job_id FROM runs r JOIN logs l
       ON l.run_id = r.id OR (l.run_id IS NULL AND l.job_id = r.job_id AND l.at >= r.started_at AND l.at <= coalesce(r.ended_at, '9999'))
     WHERE r.id = ? ORDER BY l.at, l.id LIMIT 20000`,
  )
  return (id) => q.all(id) as { at: string; level: LogLine['level']; message: string; job_id: string | null }[]
}

const notFound = (id: number) => new MigLabError('run_not_found', `No run with id ${id}.`, { hint: 'Reload the Runs page.' })
