import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { dbPathIn } from '../src/main/paths'
import { RunWriter } from '../src/main/store/run-writer'

// Fault: the disk under MigLab's history fills up while a job writes a run. A real (tiny) tmpfs, so
// SQLite hits a real ENOSPC. Needs root to mount it.
const root = process.getuid?.() === 0
const mnt = mkdtempSync(join(tmpdir(), 'miglab-full-'))
let core: Core | undefined

describe.skipIf(!root)('the history disk fills up during a run', () => {
  beforeAll(() => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'miglab-full', mnt])
  })

  afterAll(async () => {
    await core?.close().catch(() => undefined)
    execFileSync('umount', ['-l', mnt])
    rmSync(mnt, { recursive: true, force: true })
  })

  it('the job fails with a clear disk_full error, the process keeps going, and everything written before is kept', async () => {
    const dataDir = join(mnt, 'data')
    core = createCore({ dataDir, door: 'browser' })
    const writer = new RunWriter(core.services.db)
    let runId = 0
    let written = 0
    const job = core.services.jobs.start('experiment', 'fills the disk', {}, async (ctx) => {
      runId = writer.create({ labId: null, jobId: ctx.id, vm: 'guest', strategy: 'precopy', workload: 'idle', params: {}, environment: {} })
      // Samples as a probe writes them (many small ones, flushed in batches), until the disk is full.
      for (let i = 0; ; i++) {
        for (let k = 0; k < 1000; k++) writer.sample(runId, i * 1000 + k, 'probe.rtt_ms', Math.random())
        writer.flush()
        written = (i + 1) * 1000
        await new Promise((r) => setImmediate(r))
      }
    })
    const done = await core.services.jobs.wait(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toMatchObject({ code: 'disk_full' })
    expect(done.error!.message).toMatch(new RegExp(`disk holding MigLab's history \\(${dataDir}\\) is full`))
    expect(written).toBeGreaterThan(0)
    // What was committed before is all there, read by another connection.
    const db = new Database(dbPathIn(dataDir), { readonly: true })
    try {
      expect(db.prepare('SELECT count(*) FROM samples WHERE run_id = ?').pluck().get(runId)).toBeGreaterThanOrEqual(written)
      expect(db.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(runId)).toBe('running')
    } finally {
      db.close()
    }
    // The process goes on: the core still answers.
    expect((await core.handlers['runs.list']({})).map((r) => r.id)).toContain(runId)
  }, 60_000)
})
