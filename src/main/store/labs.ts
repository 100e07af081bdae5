import type { HypervisorKind, Lab, LabKind, LabNode, NodeAuth } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { now, type Db } from './db'

interface LabRow {
  id: number
  name: string
  kind: LabKind
  description: string
  /** JSON; `hypervisor` is the only setting so far. */
  settings: string
  created_at: string
}

interface LabSettings {
  hypervisor?: HypervisorKind
}
export interface NodeRow {
  id: number
  lab_id: number
  name: string
  host: string
  port: number
  user: string
  auth: string
  jump_host: string | null
  facts: string | null
  preflight: string | null
}

export interface NewNode {
  name: string
  host: string
  port: number
  user: string
  auth: NodeAuth
  jumpHost?: string
}

export const toNode = (r: NodeRow): LabNode => ({
  id: r.id,
  labId: r.lab_id,
  name: r.name,
  host: r.host,
  port: r.port,
  user: r.user,
  auth: JSON.parse(r.auth) as NodeAuth,
  ...(r.jump_host ? { jumpHost: r.jump_host } : {}),
  ...(r.facts ? { facts: JSON.parse(r.facts) as Record<string, unknown> } : {}),
  ...(r.preflight ? { preflight: JSON.parse(r.preflight) as NonNullable<LabNode['preflight']> } : {}),
})

/** Labs and their nodes. */
export class LabsRepo {
  constructor(private readonly db: Db) {}

  list(): Lab[] {
    const labs = this.db.prepare('SELECT * FROM labs ORDER BY created_at, id').all() as LabRow[]
    const nodes = this.db.prepare('SELECT * FROM nodes ORDER BY lab_id, name').all() as NodeRow[]
    return labs.map((l) => this.toLab(l, nodes.filter((n) => n.lab_id === l.id)))
  }

  get(id: number): Lab | undefined {
    const row = this.db.prepare('SELECT * FROM labs WHERE id = ?').get(id) as LabRow | undefined
    if (!row) return undefined
    return this.toLab(row, this.db.prepare('SELECT * FROM nodes WHERE lab_id = ? ORDER BY name').all(id) as NodeRow[])
  }

  /** The lab, or a 'lab_not_found' error every door can show (the UI and the CLI list labs differently). */
  require(id: number): Lab {
    const lab = this.get(id)
    if (!lab) throw new MigLabError('lab_not_found', `No lab with id ${id}.`, { hint: 'Pick a lab that still exists: reload the Labs page, or see `miglab lab list`.' })
    return lab
  }

  byName(name: string): Lab | undefined {
    const row = this.db.prepare('SELECT id FROM labs WHERE name = ?').get(name) as { id: number } | undefined
    return row && this.get(row.id)
  }

  create(input: { name: string; kind: LabKind; description: string; hypervisor?: HypervisorKind }): Lab {
    if (this.byName(input.name)) {
      throw new MigLabError('lab_exists', `A lab called "${input.name}" already exists.`, {
        hint: 'Choose another name, or open the existing lab.',
      })
    }
    const info = this.db
      .prepare('INSERT INTO labs (name, kind, description, settings, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(input.name, input.kind, input.description, JSON.stringify({ hypervisor: input.hypervisor ?? 'qemu' } satisfies LabSettings), now())
    return this.get(Number(info.lastInsertRowid))!
  }

  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM labs WHERE id = ?').run(id).changes > 0
  }

  /** Replaces a lab's nodes with `nodes` (used by the demo lab, which owns its node list). */
  setNodes(labId: number, nodes: NewNode[]): void {
    const insert = this.db.prepare(
      'INSERT INTO nodes (lab_id, name, host, port, user, auth, jump_host, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM nodes WHERE lab_id = ?').run(labId)
      for (const n of nodes) {
        insert.run(labId, n.name, n.host, n.port, n.user, JSON.stringify(n.auth), n.jumpHost ?? null, now())
      }
    })()
  }

  private toLab(row: LabRow, nodes: NodeRow[]): Lab {
    const settings = JSON.parse(row.settings || '{}') as LabSettings
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      description: row.description,
      hypervisor: settings.hypervisor ?? 'qemu',
      createdAt: row.created_at,
      nodes: nodes.map(toNode),
    }
  }
}
