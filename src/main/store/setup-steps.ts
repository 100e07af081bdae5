import type { SetupStepResult, StoredStep, WizardId } from '../../shared/contract/setup'
import { now, type Db } from './db'

export interface StepKey {
  labId: number
  wizard: WizardId
  step: string
  nodeId: number | null
}

interface Row {
  step: string
  node_id: number | null
  node_name: string | null
  status: string
  detail: string | null
  at: string
  done_at: string | null
}

/** Results a step stores; 'not_run' is never stored (nothing was looked at). */
const DONE = new Set(['already_done', 'applied'])

/** The latest result of every setup step, per lab, wizard, step and node (the `setup_steps` table). */
export class SetupStepsRepo {
  constructor(private readonly db: Db) {}

  record(key: StepKey, r: SetupStepResult): void {
    if (r.outcome === 'not_run') return
    const at = now()
    const done = DONE.has(r.outcome)
    const prev = this.db
      .prepare('SELECT done_at FROM setup_steps WHERE lab_id = ? AND wizard = ? AND step = ? AND coalesce(node_id, 0) = ?')
      .get(key.labId, key.wizard, key.step, key.nodeId ?? 0) as { done_at: string | null } | undefined
    const doneAt = done ? at : (prev?.done_at ?? null)
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM setup_steps WHERE lab_id = ? AND wizard = ? AND step = ? AND coalesce(node_id, 0) = ?').run(key.labId, key.wizard, key.step, key.nodeId ?? 0)
      this.db
        .prepare('INSERT INTO setup_steps (lab_id, wizard, step, node_id, status, detail, at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(key.labId, key.wizard, key.step, key.nodeId, r.outcome, JSON.stringify(r), at, doneAt)
    })()
  }

  list(labId: number, wizard: WizardId): StoredStep[] {
    const rows = this.db
      .prepare(
        `SELECT s.step, s.node_id, n.name AS node_name, s.status, s.detail, s.at, s.done_at
         FROM setup_steps s LEFT JOIN nodes n ON n.id = s.node_id WHERE s.lab_id = ? AND s.wizard = ? ORDER BY s.id`,
      )
      .all(labId, wizard) as Row[]
    return rows.map((r) => {
      const detail = JSON.parse(r.detail ?? '{}') as SetupStepResult
      return { ...detail, step: r.step, node: r.node_name, outcome: r.status as SetupStepResult['outcome'], at: r.at, doneAt: r.done_at }
    })
  }
}
