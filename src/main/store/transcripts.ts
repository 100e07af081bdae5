import { now, type Db } from './db'

/** Terminal transcripts (xterm serialize output), optionally attached to a run. */
export class TranscriptsRepo {
  constructor(private readonly db: Db) {}

  insert(t: { nodeId: number; runId?: number; title: string; text: string }): number {
    return Number(
      this.db
        .prepare('INSERT INTO transcripts (node_id, run_id, title, text, at) VALUES (?, ?, ?, ?, ?)')
        .run(t.nodeId, t.runId ?? null, t.title, t.text, now()).lastInsertRowid,
    )
  }
}
