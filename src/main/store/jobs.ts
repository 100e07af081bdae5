import type { JobInfo, JobStatus } from '../../shared/domain'
import { isAlive, selfIdentity } from '../util/process-identity'
import { now, type Db } from './db'

interface JobRow {
  id: string
  kind: string
  title: string
  status: JobStatus
  progress: number | null
  step: string
  result: string | null
  error: string | null
  started_at: string
  ended_at: string | null
}

const toJob = (r: JobRow): JobInfo => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  status: r.status,
  progress: r.progress,
  step: r.step,
  startedAt: r.started_at,
  ...(r.ended_at ? { endedAt: r.ended_at } : {}),
  ...(r.error ? { error: JSON.parse(r.error) as JobInfo['error'] } : {}),
  ...(r.result ? { result: JSON.parse(r.result) as unknown } : {}),
})

/** The durable record of long work, so a restart can say what happened to it. */
export class JobsRepo {
  constructor(private readonly db: Db) {}

  insert(job: JobInfo, params: unknown): void {
    this.db
      .prepare('INSERT INTO jobs (id, kind, title, params, status, progress, step, started_at, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(job.id, job.kind, job.title, JSON.stringify(params ?? {}), job.status, job.progress, job.step, job.startedAt, selfIdentity())
  }

  update(job: JobInfo): void {
    this.db
      .prepare('UPDATE jobs SET status = ?, progress = ?, step = ?, result = ?, error = ?, ended_at = ? WHERE id = ?')
      .run(
        job.status,
        job.progress,
        job.step,
        job.result === undefined ? null : JSON.stringify(job.result),
        job.error ? JSON.stringify(job.error) : null,
        job.endedAt ?? null,
        job.id,
      )
  }

  recent(limit = 50): JobInfo[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY started_at DESC LIMIT ?').all(limit) as JobRow[]).map(toJob)
  }

  /**
   * Jobs a dead process left `running` can never finish: say so. Jobs of MigLab processes that still
   * run (the app while the CLI starts) are theirs and left alone. Returns how many.
   */
  markInterrupted(): number {
    const orphans = (this.db.prepare("SELECT id, owner FROM jobs WHERE status = 'running'").all() as { id: string; owner: string | null }[]).filter((j) => !isAlive(j.owner))
    const mark = this.db.prepare(
      `UPDATE jobs SET status = 'interrupted', ended_at = ?,
         error = '{"code":"interrupted","message":"MigLab stopped while this job was running."}'
       WHERE id = ?`,
    )
    this.db.transaction(() => orphans.forEach((j) => mark.run(now(), j.id)))()
    return orphans.length
  }
}
