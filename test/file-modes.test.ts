import Database from 'better-sqlite3'
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createCore } from '../src/main/core'
import { dbPathIn } from '../src/main/paths'
import { tempDir } from './helpers'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const base = () => {
  const d = tempDir()
  dirs.push(d)
  return d
}
const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8)

describe('data directory and database file modes', () => {
  it('a new data dir is 0700 and the database with its -wal and -shm files 0600, whatever the umask', async () => {
    const old = process.umask(0o002)
    try {
      const parent = base()
      const dataDir = join(parent, 'deep', 'miglab')
      const core = createCore({ dataDir, door: 'browser' })
      await core.handlers['labs.create']({ name: 'written', description: '', hypervisor: 'qemu' })
      const db = dbPathIn(dataDir)
      expect(mode(dataDir)).toBe('700')
      expect(mode(db)).toBe('600')
      expect(mode(`${db}-wal`)).toBe('600')
      expect(mode(`${db}-shm`)).toBe('600')
      await core.close()
    } finally {
      process.umask(old)
    }
  })

  it('an existing data dir and database left world-readable are tightened on open, history kept', async () => {
    const dataDir = join(base(), 'miglab')
    mkdirSync(dataDir)
    const db = dbPathIn(dataDir)
    const seeded = new Database(db)
    seeded.pragma('journal_mode = WAL')
    seeded.exec('CREATE TABLE keep (x)')
    seeded.close()
    writeFileSync(`${db}-wal`, '')
    for (const f of [db, `${db}-wal`]) chmodSync(f, 0o644)
    chmodSync(dataDir, 0o755)

    const core = createCore({ dataDir, door: 'browser' })
    expect(mode(dataDir)).toBe('700')
    expect(mode(db)).toBe('600')
    expect(mode(`${db}-wal`)).toBe('600')
    expect(core.services.db.prepare("SELECT name FROM sqlite_master WHERE name = 'keep'").all()).toHaveLength(1)
    await core.close()
  })

  it('refuses a shared sticky folder such as /tmp as the data dir instead of locking it for everyone', () => {
    const shared = join(base(), 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o1777)
    expect(() => createCore({ dataDir: shared, door: 'browser' })).toThrow(expect.objectContaining({ code: 'data_dir_shared' }))
    expect(mode(shared)).toBe('1777')
  })
})

describe('in-memory databases', () => {
  it('open without creating a file called :memory: or touching the working directory', async () => {
    const { openDb } = await import('../src/main/store/db')
    const { existsSync } = await import('node:fs')
    const before = mode(process.cwd())
    openDb(':memory:').close()
    expect(existsSync(':memory:')).toBe(false)
    expect(mode(process.cwd())).toBe(before)
  })
})
