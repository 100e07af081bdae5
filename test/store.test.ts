import Database from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { createCore } from '../src/main/core'
import { migrations } from '../src/main/store/migrations'
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
})
