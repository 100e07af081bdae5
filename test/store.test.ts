import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { selfIdentity } from '../src/main/util/process-identity'
import { createCore } from '../src/main/core'
import { autoincrementIds, migrations } from '../src/main/store/migrations'
import { dbPathIn } from '../src/main/paths'
import { openDb } from '../src/main/store/db'
import { tempDir } from './helpers'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const dir = () => {
  const d = tempDir()
  dirs.push(d)
  return d
}

describe('SQLite store', () => {
  it('creates the schema in WAL mode at the latest version, and reopening changes nothing', () => {
    const path = dbPathIn(dir())
    const db = openDb(path)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length)
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name)
    expect(tables).toEqual(expect.arrayContaining(['labs', 'nodes', 'host_keys', 'setup_steps', 'runs', 'samples', 'events', 'logs', 'tags', 'notes', 'jobs']))
    db.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('kept', 'real', 'now')").run()
    db.close()
    const again = openDb(path)
    expect(again.prepare('SELECT name FROM labs').all()).toEqual([{ name: 'kept' }])
    again.close()
  })

  it('refuses a database written by a newer MigLab instead of damaging it', () => {
    const path = dbPathIn(dir())
    openDb(path).close()
    const raw = new Database(path)
    raw.pragma(`user_version = ${migrations.length + 1}`)
    raw.close()
    expect(() => openDb(path)).toThrow(/newer MigLab/)
  })

  it('marks runs and jobs a crashed process left running as interrupted, keeping their samples', async () => {
    const dataDir = dir()
    const first = createCore({ dataDir, door: 'browser' })
    const { db } = first.services
    const runId = Number(
      db.prepare("INSERT INTO runs (vm, strategy, workload, status, started_at) VALUES ('guest', 'precopy', 'idle', 'running', ?)").run(new Date().toISOString()).lastInsertRowid,
    )
    db.prepare("INSERT INTO samples (run_id, t_ms, series, value) VALUES (?, 10, 'transferred', 1024)").run(runId)
    db.prepare("INSERT INTO jobs (id, kind, title, status, started_at) VALUES ('j1', 'demo.up', 'Demo lab', 'running', 'x')").run()
    db.close() // simulate a crash: no orderly shutdown

    const second = createCore({ dataDir, door: 'browser' })
    const runs = await second.handlers['runs.list']({})
    expect(runs).toHaveLength(1)
    expect(runs[0].status).toBe('interrupted')
    expect(second.services.db.prepare('SELECT count(*) AS n FROM samples WHERE run_id = ?').get(runId)).toEqual({ n: 1 })
    const jobs = await second.handlers['jobs.list']({})
    expect(jobs[0]).toMatchObject({ id: 'j1', status: 'interrupted', error: { code: 'interrupted' } })
    await second.close()
  })

  it("a second MigLab process starting on the same history leaves the running jobs and runs of a live one alone", async () => {
    const dataDir = dir()
    const first = createCore({ dataDir, door: 'browser' })
    const { db } = first.services
    // A job of a live process (this one), and one of a process that is gone (its start time differs).
    const dead = selfIdentity().replace(/:\d+$/, ':1')
    db.prepare("INSERT INTO jobs (id, kind, title, status, started_at, owner) VALUES ('live', 'experiment', 'x', 'running', 't', ?), ('gone', 'experiment', 'y', 'running', 't', ?)").run(selfIdentity(), dead)
    for (const job of ['live', 'gone']) db.prepare("INSERT INTO runs (job_id, vm, strategy, workload, status, started_at) VALUES (?, 'guest', 'precopy', 'idle', 'running', ?)").run(job, new Date().toISOString())
    const second = createCore({ dataDir, door: 'browser' })
    const status = (sql: string) => second.services.db.prepare(sql).pluck().all()
    expect(status("SELECT status FROM jobs ORDER BY id")).toEqual(['interrupted', 'running'])
    expect(status("SELECT status FROM runs ORDER BY job_id")).toEqual(['interrupted', 'running'])
    await second.close()
    await first.close()
  })
})

describe('ids are never reused (AUTOINCREMENT migration)', () => {
  const step = migrations.indexOf(autoincrementIds)

  /** A database as the MigLab before the AUTOINCREMENT step left it, with rows in every table. */
  function oldDatabase(path: string): void {
    const raw = new Database(path)
    raw.pragma('foreign_keys = ON')
    for (const m of migrations.slice(0, step)) {
      if (typeof m === 'string') raw.exec(m)
      else m(raw)
    }
    raw.pragma(`user_version = ${step}`)
    raw.exec(`
      INSERT INTO labs (id, name, kind, created_at) VALUES (1, 'lab-a', 'real', 't'), (2, 'lab-b', 'real', 't');
      INSERT INTO nodes (id, lab_id, name, host, user, auth, created_at) VALUES
        (1, 1, 'n1', '10.0.0.1', 'root', '{"kind":"agent"}', 't'),
        (2, 1, 'n2', '10.0.0.2', 'root', '{"kind":"agent"}', 't'),
        (3, 2, 'n3', '10.0.0.3', 'root', '{"kind":"agent"}', 't');
      INSERT INTO setup_steps (lab_id, wizard, step, node_id, status, at) VALUES (1, 'w', 's', 2, 'ok', 't');
      INSERT INTO runs (id, lab_id, vm, strategy, workload, status, started_at) VALUES (1, 1, 'vm', 'precopy', 'idle', 'done', 't');
      INSERT INTO samples (run_id, t_ms, series, value) VALUES (1, 5, 'x', 1);
      INSERT INTO events (run_id, t_ms, kind) VALUES (1, 5, 'start');
      INSERT INTO tags (run_id, tag) VALUES (1, 'keep');
      INSERT INTO notes (run_id, text, at) VALUES (1, 'note', 't');
      INSERT INTO transcripts (node_id, run_id, title, text, at) VALUES (2, 1, 'tr', 'text', 't');
    `)
    raw.close()
  }

  it('upgrades an old database with rows: every row, id and reference kept, foreign keys still enforced', () => {
    expect(step).toBeGreaterThan(0)
    const path = dbPathIn(dir())
    oldDatabase(path)
    const db = openDb(path)
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length)
    for (const t of ['labs', 'nodes', 'runs']) {
      const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(t) as { sql: string }).sql
      expect(sql, t).toMatch(/id INTEGER PRIMARY KEY AUTOINCREMENT/)
    }
    expect(db.prepare('SELECT id, name FROM nodes ORDER BY id').all()).toEqual([
      { id: 1, name: 'n1' },
      { id: 2, name: 'n2' },
      { id: 3, name: 'n3' },
    ])
    expect(db.prepare('SELECT node_id FROM setup_steps').all()).toEqual([{ node_id: 2 }])
    expect(db.prepare('SELECT node_id, run_id FROM transcripts').all()).toEqual([{ node_id: 2, run_id: 1 }])
    expect(db.prepare('SELECT (SELECT count(*) FROM samples) s, (SELECT count(*) FROM events) e, (SELECT count(*) FROM tags) t, (SELECT count(*) FROM notes) n').get()).toEqual({ s: 1, e: 1, t: 1, n: 1 })
    expect(db.pragma('foreign_key_check')).toEqual([])
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    // The children still point at the rebuilt tables: cascades work.
    expect((db.pragma('foreign_key_list(setup_steps)') as { table: string }[]).map((f) => f.table).sort()).toEqual(['labs', 'nodes'])
    db.prepare('DELETE FROM nodes WHERE id = 2').run()
    expect(db.prepare('SELECT count(*) n FROM setup_steps').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT node_id FROM transcripts').all()).toEqual([{ node_id: null }])
    db.prepare('DELETE FROM runs WHERE id = 1').run()
    expect(db.prepare('SELECT count(*) n FROM samples').get()).toEqual({ n: 0 })
    expect(() => db.prepare("INSERT INTO nodes (lab_id, name, host, user, auth, created_at) VALUES (99, 'x', 'h', 'u', '{}', 't')").run()).toThrow(/FOREIGN KEY/)
    db.close()
  })

  it('a removed node, lab or run never gives its id to a new one (also after an upgrade)', () => {
    const path = dbPathIn(dir())
    oldDatabase(path)
    const db = openDb(path)
    const insertNode = (name: string) =>
      Number(db.prepare("INSERT INTO nodes (lab_id, name, host, user, auth, created_at) VALUES (1, ?, 'h', 'u', '{}', 't')").run(name).lastInsertRowid)
    db.prepare('DELETE FROM nodes WHERE id = 3').run()
    expect(insertNode('new')).toBe(4)
    db.prepare('DELETE FROM nodes WHERE id = 4').run()
    expect(insertNode('newer')).toBe(5)
    db.prepare('DELETE FROM labs WHERE id = 2').run()
    expect(Number(db.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('c', 'real', 't')").run().lastInsertRowid)).toBe(3)
    db.prepare('DELETE FROM runs WHERE id = 1').run()
    expect(Number(db.prepare("INSERT INTO runs (vm, strategy, workload, status, started_at) VALUES ('v', 'p', 'w', 'done', 't')").run().lastInsertRowid)).toBe(2)
    db.close()
    // A fresh database too.
    const fresh = openDb(dbPathIn(dir()))
    fresh.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('a', 'real', 't')").run()
    fresh.prepare('DELETE FROM labs').run()
    expect(Number(fresh.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('b', 'real', 't')").run().lastInsertRowid)).toBe(2)
    fresh.close()
  })
})
