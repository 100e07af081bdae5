import type { LabNode, NodeFacts, PreflightCheck } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { now, type Db } from './db'
import { toNode, type NewNode, type NodeRow } from './labs'

/** One node at a time (the lab-wide list lives in LabsRepo). Secrets are never stored here. */
export class NodesRepo {
  constructor(private readonly db: Db) {}

  get(id: number): LabNode | undefined {
    const row = this.db.prepare('SELECT * FROM nodes WHERE id = ?').get(id) as NodeRow | undefined
    return row && toNode(row)
  }

  /** The node, or a 'node_not_found' error the UI can show. */
  require(id: number): LabNode {
    const node = this.get(id)
    if (!node) throw new MigLabError('node_not_found', `No node with id ${id}.`, { hint: 'Pick a node that still exists: reload the Labs page, or see `miglab lab list`.' })
    return node
  }

  byName(labId: number, name: string): LabNode | undefined {
    const row = this.db.prepare('SELECT * FROM nodes WHERE lab_id = ? AND name = ?').get(labId, name) as NodeRow | undefined
    return row && toNode(row)
  }

  add(labId: number, n: NewNode): LabNode {
    this.checkNameFree(labId, n.name)
    const info = this.db
      .prepare('INSERT INTO nodes (lab_id, name, host, port, user, auth, jump_host, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(labId, n.name, n.host, n.port, n.user, JSON.stringify(n.auth), n.jumpHost ?? null, now())
    return this.get(Number(info.lastInsertRowid))!
  }

  /** Replaces the connection settings; facts and the checklist are kept. */
  update(id: number, n: NewNode): LabNode {
    const current = this.require(id)
    if (n.name !== current.name) this.checkNameFree(current.labId, n.name)
    this.db
      .prepare('UPDATE nodes SET name = ?, host = ?, port = ?, user = ?, auth = ?, jump_host = ? WHERE id = ?')
      .run(n.name, n.host, n.port, n.user, JSON.stringify(n.auth), n.jumpHost ?? null, id)
    return this.get(id)!
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM nodes WHERE id = ?').run(id).changes > 0
  }

  setPreflight(id: number, at: string, checks: PreflightCheck[], facts: NodeFacts): void {
    this.db.prepare('UPDATE nodes SET preflight = ?, facts = ? WHERE id = ?').run(JSON.stringify({ at, checks }), JSON.stringify(facts), id)
  }

  private checkNameFree(labId: number, name: string): void {
    if (this.byName(labId, name)) {
      throw new MigLabError('node_exists', `This lab already has a node called "${name}".`, { hint: 'Choose another name.' })
    }
  }
}
