import type { LogLine } from '../../shared/domain'
import type { Db } from './db'

export class LogsRepo {
  constructor(private readonly db: Db) {}

  insert(line: LogLine): void {
    this.db
      .prepare('INSERT INTO logs (at, level, message, job_id, run_id) VALUES (?, ?, ?, ?, ?)')
      .run(line.at, line.level, line.message, line.jobId ?? null, line.runId ?? null)
  }
}
