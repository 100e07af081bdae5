import Database from 'better-sqlite3'
import { parse } from 'csv-parse/sync'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { dispatch } from '../src/main/doors/dispatch'
import { compareRuns } from '../src/main/migration/compare'
import { csvSafe } from '../src/main/migration/export'
import { groupRuns, thesisView } from '../src/main/migration/groups'
import { changeCi, fiveNumbers, summarize } from '../src/main/migration/stats'
import { dbPathIn } from '../src/main/paths'
import { openDb } from '../src/main/store/db'
import { migrations } from '../src/main/store/migrations'
import { runSummaries } from '../src/main/store/run-detail'
import { seedRuns } from './fixtures/synthetic-runs'
import { tempCore, tempDir } from './helpers'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})
const core = () => {
  const t = tempCore()
  cleanups.push(t.dispose)
  return t
}

describe('history store', () => {
  it('gives every existing run a uuid when the schema is migrated, and every new run one too', () => {
    const dir = tempDir()
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const path = dbPathIn(dir)
    // A database from before the history migration, holding two runs.
    const raw = new Database(path)
    const before = migrations.findIndex((m) => typeof m === 'string' && m.includes('ADD COLUMN uuid'))
    expect(before).toBeGreaterThan(0)
    for (const m of migrations.slice(0, before)) {
      if (typeof m === 'string') raw.exec(m)
      else m(raw)
    }
    raw.pragma(`user_version = ${before}`)
    for (const vm of ['a', 'b']) raw.prepare("INSERT INTO runs (vm, strategy, workload, status, started_at) VALUES (?, 'precopy', 'idle', 'succeeded', '2026-01-01')").run(vm)
    raw.close()
    const db = openDb(path)
    const uuids = db.prepare('SELECT uuid FROM runs').pluck().all() as string[]
    expect(uuids).toHaveLength(2)
    for (const u of uuids) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(uuids).size).toBe(2)
    const [id] = seedRuns(db, { strategies: ['precopy'], workloads: ['idle'], repetitions: 1 })
    expect(db.prepare('SELECT uuid FROM runs WHERE id = ?').pluck().get(id)).toMatch(/^[0-9a-f-]{36}$/)
    db.close()
  })

  it('tags, untags, stars and notes runs, and refuses unknown runs with a code', async () => {
    const { core: c } = core()
    const [a, b] = seedRuns(c.services.db, { strategies: ['precopy'], workloads: ['idle'], repetitions: 2 })
    expect(await c.handlers['runs.tag']({ ids: [a, b], tag: 'night-1' })).toEqual({ changed: 2 })
    expect(await c.handlers['runs.tag']({ ids: [a], tag: 'night-1' })).toEqual({ changed: 0 })
    await c.handlers['runs.untag']({ ids: [b], tag: 'night-1' })
    await c.handlers['runs.star']({ id: a, starred: true })
    const note = await c.handlers['runs.note.add']({ id: a, text: 'guest froze at pass 3' })
    await c.handlers['runs.note.add']({ id: a, text: 'second look' })
    expect(await c.handlers['runs.note.delete']({ noteId: note.id })).toEqual({ deleted: true })
    const rec = await c.handlers['runs.record']({ id: a })
    expect(rec).toMatchObject({ id: a, starred: true, tags: ['night-1'], notes: [{ text: 'second look' }] })
    expect(rec.uuid).toMatch(/^[0-9a-f-]{36}$/)
    expect(await dispatch(c.handlers, 'runs.tag', { ids: [999], tag: 'x' })).toMatchObject({ ok: false, error: { code: 'run_not_found' } })
    expect(await dispatch(c.handlers, 'runs.note.add', { id: a, text: '   ' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('filters in SQL by strategy, workload, status, tag, star, dates, metric ranges and words in notes and tags; paginates and sorts', async () => {
    const { core: c } = core()
    const ids = seedRuns(c.services.db, { repetitions: 4 }) // 3 strategies × 2 workloads × 4 = 24 runs, a minute apart
    const q = (input: Parameters<typeof c.handlers['runs.query']>[0]) => c.handlers['runs.query'](input)
    const all = { filter: {}, offset: 0, limit: 500 }
    expect((await q(all)).total).toBe(24)
    expect((await q({ ...all, filter: { strategies: ['dsm'] } })).total).toBe(8)
    expect((await q({ ...all, filter: { strategies: ['dsm', 'precopy'], workloads: ['idle'] } })).total).toBe(8)
    expect((await q({ ...all, filter: { statuses: ['failed'] } })).total).toBe(0)
    await c.handlers['runs.tag']({ ids: ids.slice(0, 5), tag: 'batch-A' })
    await c.handlers['runs.tag']({ ids: ids.slice(3, 6), tag: 'kvm' })
    expect((await q({ ...all, filter: { tags: ['batch-A', 'kvm'] } })).runs.map((r) => r.id)).toEqual([ids[4], ids[3]])
    await c.handlers['runs.star']({ id: ids[7], starred: true })
    expect((await q({ ...all, filter: { starred: true } })).runs.map((r) => r.id)).toEqual([ids[7]])
    await c.handlers['runs.note.add']({ id: ids[10], text: 'Strange 100% CPU spike_on the source' })
    expect((await q({ ...all, filter: { text: 'spike_on' } })).runs.map((r) => r.id)).toEqual([ids[10]])
    expect((await q({ ...all, filter: { text: '100%' } })).runs.map((r) => r.id)).toEqual([ids[10]])
    expect((await q({ ...all, filter: { text: 'BATCH-a dsm' } })).runs.every((r) => r.strategy === 'dsm' && r.tags.includes('batch-A'))).toBe(true)
    expect((await q({ ...all, filter: { text: 'guest-b' } })).total).toBe(12)
    // Dates: runs start a minute apart from 20:00.
    expect((await q({ ...all, filter: { from: '2026-11-01T20:10:00Z', to: '2026-11-01T20:14:00Z' } })).total).toBe(5)
    // Metric range, checked against the stored values.
    const everything = (await q(all)).runs
    const inRange = everything.filter((r) => r.metrics.stop_resume_ms >= 50 && r.metrics.stop_resume_ms <= 200).map((r) => r.id)
    expect(inRange.length).toBeGreaterThan(0)
    expect(inRange.length).toBeLessThan(24)
    expect((await q({ ...all, filter: { metrics: [{ key: 'stop_resume_ms', min: 50, max: 200 }] } })).runs.map((r) => r.id).sort()).toEqual(inRange.sort())
    expect((await q({ ...all, filter: { metrics: [{ key: 'no_such_metric', min: 0 }] } })).total).toBe(0)
    // Sort by a metric, paginate.
    const sorted = await q({ filter: {}, sort: { by: 'metric:transferred_bytes', desc: false }, offset: 0, limit: 500 })
    const bytes = sorted.runs.map((r) => r.metrics.transferred_bytes)
    expect(bytes).toEqual([...bytes].sort((x, y) => x - y))
    const page2 = await q({ filter: {}, sort: { by: 'metric:transferred_bytes', desc: false }, offset: 10, limit: 5 })
    expect(page2).toMatchObject({ total: 24, offset: 10 })
    expect(page2.runs.map((r) => r.id)).toEqual(sorted.runs.slice(10, 15).map((r) => r.id))
    // Parameters and duration travel with each row.
    expect(sorted.runs[0]).toMatchObject({ params: { from: 'node-a', maxBandwidthMiBs: 1024 }, notes: expect.any(Number), durationMs: expect.any(Number) })
    // A sort key is never SQL: the contract refuses anything else.
    expect(await dispatch(c.handlers, 'runs.query', { sort: { by: 'metric:x) DROP TABLE runs' } })).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    const facets = await c.handlers['runs.facets']({})
    expect(facets).toMatchObject({ total: 24, strategies: ['dsm', 'postcopy', 'precopy'], tags: ['batch-A', 'kvm'] })
    expect(facets.metricKeys).toEqual(expect.arrayContaining(['qemu_downtime_ms', 'stop_resume_ms', 'probe_gap_ms', 'transferred_bytes']))
    expect(facets.paramKeys).toContain('maxBandwidthMiBs')
  })
})

describe('run detail for viewing', () => {
  it('thins long series to what a chart shows, keeping the spike of the gap, and says so', async () => {
    const { core: c } = core()
    const [id] = seedRuns(c.services.db, { strategies: ['precopy'], workloads: ['idle'], repetitions: 1, samplesPerSeries: 20_000 })
    c.services.db.prepare("UPDATE samples SET value = 250 WHERE run_id = ? AND series = 'probe.rtt_ms' AND t_ms = (SELECT t_ms FROM samples WHERE run_id = ? AND series = 'probe.rtt_ms' ORDER BY t_ms LIMIT 1 OFFSET 12345)").run(id, id)
    const full = await c.handlers['runs.get']({ id })
    const view = await c.handlers['runs.detail']({ id, maxPoints: 4000 })
    expect(full.samples['probe.rtt_ms']).toHaveLength(20_000)
    expect(view.thinned).toEqual({ 'probe.rtt_ms': 20_000, 'qemu.remaining_bytes': 20_000, 'qemu.transferred_bytes': 20_000 })
    expect(view.samples['probe.rtt_ms'].length).toBeLessThanOrEqual(4000)
    expect(Math.max(...view.samples['probe.rtt_ms'].map((p) => p[1]))).toBe(250)
    expect(view.metrics).toEqual(full.metrics)
    expect((await c.handlers['runs.detail']({ id, maxPoints: 100_000 })).thinned).toEqual({})
  })
})

describe('offline by construction', () => {
  it('history, detail, compare, export and import never touch SSH or the labs', async () => {
    const { core: c } = core()
    const ids = seedRuns(c.services.db, { repetitions: 2 })
    const touched: string[] = []
    const trap = (name: string) => new Proxy({}, { get: (_t, p) => (touched.push(`${name}.${String(p)}`), () => Promise.reject(new Error('offline'))) })
    const services = c.services as unknown as Record<string, unknown>
    for (const k of ['ssh', 'hostTrust', 'terminals']) services[k] = trap(k)
    await c.handlers['runs.query']({ filter: { text: 'guest' }, offset: 0, limit: 10 })
    await c.handlers['runs.facets']({})
    await c.handlers['runs.get']({ id: ids[0] })
    await c.handlers['runs.detail']({ id: ids[0], maxPoints: 8000 })
    await c.handlers['runs.record']({ id: ids[0] })
    await c.handlers['runs.tag']({ ids, tag: 'x' })
    await c.handlers['runs.note.add']({ id: ids[0], text: 'n' })
    await c.handlers['runs.star']({ id: ids[0], starred: true })
    await c.handlers['runs.compare']({ ids })
    await c.handlers['runs.group']({ filter: {}, groupBy: ['strategy'] })
    await c.handlers['runs.thesis']({ filter: {}, baseline: 'precopy' })
    const bundle = await c.handlers['runs.export']({ format: 'bundle' })
    await c.handlers['runs.export']({ format: 'csv' })
    await c.handlers['runs.import']({ name: 'b', base64: bundle.content })
    expect(touched).toEqual([])
    for (const k of ['ssh', 'hostTrust', 'terminals']) delete services[k]
    services.ssh = { close: async () => undefined }
    services.terminals = { closeAll: () => undefined }
  })
})

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas, keeping plain numbers', () => {
    expect(csvSafe('=HYPERLINK("x")')).toBe(`'=HYPERLINK("x")`)
    for (const s of ['+1+1', '-cmd', '@SUM(A1)', '\tx', '-1e', '--5']) expect(csvSafe(s)).toBe(`'${s}`)
    for (const s of ['-5', '+3.5', '-1e-3', '42', '.5']) expect(csvSafe(s)).toBe(s)
    expect(csvSafe(-12)).toBe(-12)
    expect(csvSafe(null)).toBe('')
  })

  it('writes every run with tags, notes, start, duration, parameters and metrics', async () => {
    const { core: c } = core()
    const [a] = seedRuns(c.services.db, { strategies: ['precopy'], workloads: ['idle'], repetitions: 2 })
    c.services.db.prepare("UPDATE runs SET vm = '=cmd|calc' WHERE id = ?").run(a)
    await c.handlers['runs.tag']({ ids: [a], tag: '@night' })
    await c.handlers['runs.note.add']({ id: a, text: '-looks odd' })
    const out = await c.handlers['runs.export']({ format: 'csv' })
    const rows = parse(out.content, { columns: true }) as Record<string, string>[]
    expect(rows).toHaveLength(2)
    const row = rows.find((r) => r.id === String(a))!
    expect(row).toMatchObject({ vm: "'=cmd|calc", tags: "'@night", notes: "'-looks odd", strategy: 'precopy', 'param.maxBandwidthMiBs': '1024' })
    expect(Number(row.duration_ms)).toBeGreaterThan(0)
    expect(Number(row.stop_resume_ms)).toBeGreaterThan(0)
    expect(row.started_at).toBe('2026-11-01T20:00:00.000Z')
    expect(row.uuid).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('bundles', () => {
  it('moves a history to a fresh MigLab: same compare numbers, re-import skips every run as a duplicate', async () => {
    const one = core()
    seedRuns(one.core.services.db, { repetitions: 3, samplesPerSeries: 50 })
    const [first] = (await one.core.handlers['runs.query']({ filter: {}, offset: 0, limit: 1, sort: { by: 'id', desc: false } })).runs
    await one.core.handlers['runs.tag']({ ids: [first.id], tag: 'keep' })
    await one.core.handlers['runs.note.add']({ id: first.id, text: 'first of the night' })
    await one.core.handlers['runs.star']({ id: first.id, starred: true })
    const out = await one.core.handlers['runs.export']({ format: 'bundle' })
    expect(out).toMatchObject({ encoding: 'base64', mime: 'application/gzip' })
    expect(JSON.parse(gunzipSync(Buffer.from(out.content, 'base64')).toString())).toMatchObject({ format: 'miglab-runs', version: 1 })

    const two = core()
    two.core.services.db.prepare("INSERT INTO runs (vm, strategy, workload, status, started_at) VALUES ('other', 'precopy', 'idle', 'failed', '2026-01-01')").run()
    const report = await two.core.handlers['runs.import']({ name: 'b.miglab', base64: out.content })
    expect(report.imported).toHaveLength(18)
    expect(report.skipped).toEqual([])
    const again = await two.core.handlers['runs.import']({ name: 'b.miglab', base64: out.content })
    expect(again.imported).toEqual([])
    expect(again.skipped).toHaveLength(18)
    expect(again.skipped[0].reason).toMatch(/already in this history/)

    const ids1 = one.core.services.history.ids({})
    const ids2 = report.imported.map((r) => r.id)
    // Same numbers in the strategy × workload comparison and the grouped one.
    expect(compareRuns(runSummaries(two.core.services.db, ids2))).toEqual(reid(compareRuns(runSummaries(one.core.services.db, ids1)), ids1, ids2))
    const g1 = await one.core.handlers['runs.group']({ filter: {}, groupBy: ['strategy', 'workload'] })
    const g2 = await two.core.handlers['runs.group']({ filter: { ids: ids2 }, groupBy: ['strategy', 'workload'] })
    expect(strip(g2)).toEqual(strip(g1))
    // Everything came along: the run's uuid, tags, notes, star, samples and events.
    const moved = report.imported.find((r) => r.uuid === first.uuid)!
    expect(await two.core.handlers['runs.record']({ id: moved.id })).toMatchObject({ uuid: first.uuid, starred: true, tags: ['keep'], notes: [{ text: 'first of the night' }] })
    const d1 = await one.core.handlers['runs.get']({ id: first.id })
    const d2 = await two.core.handlers['runs.get']({ id: moved.id })
    expect(d2.samples).toEqual(d1.samples)
    expect(d2.events).toEqual(d1.events)
    expect(d2.params).toEqual(d1.params)
  })

  it('imports the JSON export too, and refuses newer, foreign, oversized-field and malformed files with a clear message', async () => {
    const one = core()
    seedRuns(one.core.services.db, { strategies: ['precopy'], workloads: ['idle'], repetitions: 1 })
    const json = (await one.core.handlers['runs.export']({ format: 'json' })).content
    const two = core()
    expect((await two.core.handlers['runs.import']({ name: 'x.json', text: json })).imported).toHaveLength(1)
    const doc = JSON.parse(json) as { version: number; runs: { vm: string; metrics: Record<string, unknown> }[] }
    const call = (d: unknown) => dispatch(two.core.handlers, 'runs.import', { base64: gzipSync(JSON.stringify(d)).toString('base64') })
    const newer = await call({ ...doc, version: 2 })
    expect(newer).toMatchObject({ ok: false, error: { code: 'bundle_too_new', message: expect.stringMatching(/newer MigLab/) } })
    expect(await call({ hello: 'world' })).toMatchObject({ ok: false, error: { code: 'bundle_invalid' } })
    const badMetric = { ...doc, runs: [{ ...doc.runs[0], uuid: '3b1f7e0c-1a2b-4c3d-8e9f-001122334455', metrics: { x: 'DROP' } }] }
    const bad = await call(badMetric)
    expect(bad).toMatchObject({ ok: false, error: { code: 'bundle_invalid' } })
    if (!bad.ok) expect(bad.error.detail?.issues?.[0].path).toBe('runs.0.metrics.x')
    expect(await call({ ...doc, runs: [{ ...doc.runs[0], vm: 'x'.repeat(500) }] })).toMatchObject({ ok: false, error: { code: 'bundle_invalid' } })
    expect(await dispatch(two.core.handlers, 'runs.import', { base64: Buffer.from('not gzip').toString('base64') })).toMatchObject({ ok: false, error: { code: 'bundle_invalid' } })
    expect(await dispatch(two.core.handlers, 'runs.import', { base64: Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString('base64') })).toMatchObject({ ok: false, error: { code: 'bundle_invalid' } })
  })
  it('takes a large file in parts (the browser door limits a message to 8 MiB) and forgets unknown uploads', async () => {
    const one = core()
    seedRuns(one.core.services.db, { repetitions: 2 })
    const gz = Buffer.from((await one.core.handlers['runs.export']({ format: 'bundle' })).content, 'base64')
    const two = core()
    const third = Math.ceil(gz.length / 3)
    let upload: string | undefined
    for (let i = 0; i < gz.length; i += third) {
      const r = await two.core.handlers['runs.upload']({ ...(upload ? { upload } : {}), base64: gz.subarray(i, i + third).toString('base64') })
      upload = r.upload
      expect(r.bytes).toBe(Math.min(gz.length, i + third))
    }
    expect((await two.core.handlers['runs.import']({ name: 'b', upload })).imported).toHaveLength(12)
    // An upload is used once.
    expect(await dispatch(two.core.handlers, 'runs.import', { upload })).toMatchObject({ ok: false, error: { code: 'upload_not_found' } })
    expect(await dispatch(two.core.handlers, 'runs.upload', { upload: '00000000-0000-4000-8000-000000000000', base64: 'AA==' })).toMatchObject({ ok: false, error: { code: 'upload_not_found' } })
  })
})

describe('grouped comparison and the thesis view', () => {
  it('Welch: % change with its own 95 % interval (checked against a hand computation)', () => {
    const a = summarize([10, 12, 11, 13, 9])
    const b = summarize([20, 22, 19, 21, 23])
    const c = changeCi(a, b)
    expect(c.pct).toBeCloseTo(-47.619, 3)
    // Delta method: se(r) = sqrt(sa²/na/mb² + ma²·sb²/nb/mb⁴), df Welch–Satterthwaite, t(0.975, df).
    const va = a.sd ** 2 / 5 / 21 ** 2
    const vb = (11 / 21) ** 2 * b.sd ** 2 / 5 / 21 ** 2
    const df = (va + vb) ** 2 / (va ** 2 / 4 + vb ** 2 / 4)
    expect(c.df).toBeCloseTo(df, 6)
    expect(c.df).toBeGreaterThan(6)
    expect(c.df).toBeLessThan(7)
    const half = 2.447 * Math.sqrt(va + vb) * 100 // t(0.975, 6): fractional df round down (conservative)
    expect(c.hi - c.pct).toBeCloseTo(half, 1)
    expect(c.lo).toBeLessThan(c.pct)
    expect(changeCi(summarize([1]), b)).toMatchObject({ lo: NaN, hi: NaN })
    // Box plot figures: R type 7 quantiles.
    expect(fiveNumbers([7, 1, 3, 5, 9, 11])).toEqual({ min: 1, q1: 3.5, median: 6, q3: 8.5, max: 11 })
    expect(fiveNumbers([4])).toEqual({ min: 4, q1: 4, median: 4, q3: 4, max: 4 })
    expect(changeCi(a, summarize([0, 0])).pct).toBeNaN()
  })

  it('groups by any parameter with a chosen baseline, and answers the thesis question for idle and busy guests', async () => {
    const { core: c } = core()
    seedRuns(c.services.db, { repetitions: 4 })
    const byChannels = await c.handlers['runs.group']({ filter: {}, groupBy: ['param:multifdChannels', 'workload'], baseline: '2 · idle' })
    expect(byChannels.baseline).toBe('2 · idle')
    expect(byChannels.groups.map((g) => g.key)).toEqual(['2 · dirty:64M:50', '2 · idle'])
    expect(byChannels.groups[0].metrics.stop_resume_ms.change?.pct).toBeGreaterThan(0)
    const th = await c.handlers['runs.thesis']({ filter: {}, baseline: 'precopy' })
    expect(th.metrics).toEqual(['qemu_downtime_ms', 'stop_resume_ms', 'probe_gap_ms', 'transferred_bytes'])
    expect(th.rows.map((r) => `${r.guest}:${r.strategy}`)).toEqual(['idle:dsm', 'idle:postcopy', 'busy:dsm', 'busy:postcopy'])
    const dsm = th.rows.find((r) => r.guest === 'busy' && r.strategy === 'dsm')!
    expect(dsm.n).toBe(4)
    expect(dsm.change.transferred_bytes.pct).toBeLessThan(-99)
    expect(dsm.change.stop_resume_ms.hi).toBeLessThan(0)
    // Pure functions: the same runs give the same view without the store.
    const runs = c.services.history.groupable({})
    expect(thesisView(runs)).toEqual(th)
    expect(groupRuns(runs, ['strategy']).groups).toHaveLength(3)
  })
})

describe('CLI: runs list, export, import', () => {
  it('lists with filters, exports a bundle to a file and imports it into another data dir', () => {
    const a = tempDir()
    const b = tempDir()
    cleanups.push(() => [a, b].forEach((d) => rmSync(d, { recursive: true, force: true })))
    const db = openDb(dbPathIn(a))
    seedRuns(db, { repetitions: 2 })
    db.close()
    const miglab = (dir: string, ...args: string[]) =>
      spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'miglab.mjs'), ...args], { env: { ...process.env, MIGLAB_DATA_DIR: dir }, encoding: 'utf8', timeout: 60_000 })
    const listed = miglab(a, 'runs', 'list', '--strategy', 'dsm', '--workload', 'idle', '--json')
    expect(listed.stderr).toBe('')
    expect(JSON.parse(listed.stdout)).toMatchObject({ total: 2, runs: [{ strategy: 'dsm', workload: 'idle' }, { strategy: 'dsm' }] })
    expect(miglab(a, 'runs', 'list', '--metric', 'stop_resume_ms<=0').stdout).toMatch(/\(0 of 0 runs\)/)
    const file = join(b, 'history.miglab')
    expect(miglab(a, 'runs', 'export', '--format', 'bundle', '--out', file).status).toBe(0)
    const imported = miglab(b, 'runs', 'import', file)
    expect(imported.stdout).toMatch(/Imported 12 runs, skipped 0/)
    expect(miglab(b, 'runs', 'import', file).stdout).toMatch(/Imported 0 runs, skipped 12[\s\S]*already in this history/)
    const csv = miglab(b, 'runs', 'export', '--format', 'csv').stdout
    expect(csv.split('\n')[0]).toMatch(/^id,uuid,lab_id,lab,vm,strategy,workload,status,started_at,ended_at,duration_ms,starred,tags,notes,param\./)
    writeFileSync(join(b, 'bad.miglab'), gzipSync(JSON.stringify({ format: 'miglab-runs', version: 99 })))
    const refused = miglab(b, 'runs', 'import', join(b, 'bad.miglab'))
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(/newer MigLab[\s\S]*Update MigLab/)
    expect(readFileSync(file).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
  })
})

/** A comparison with run ids mapped from one history's to another's (ids differ, numbers must not). */
function reid<T extends { groups: { runIds: number[] }[] }>(c: T, from: number[], to: number[]): T {
  return { ...c, groups: c.groups.map((g) => ({ ...g, runIds: g.runIds.map((id) => to[from.indexOf(id)]) })) }
}
const strip = (g: { groups: { runIds: number[] }[] }) => ({ ...g, groups: g.groups.map((x) => ({ ...x, runIds: x.runIds.length })) })
