import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { workloadLabel, type MigrationParams, type StrategyId, type Workload } from '../../shared/contract/migration'
import { MigLabError, toApiError } from '../../shared/errors'
import type { HypervisorDriver, VmSpec } from '../hypervisors/driver'
import type { NodeClocks } from '../hypervisors/node-clock'
import type { NodeLink } from '../hypervisors/node-link'
import type { JobContext } from '../jobs/manager'
import * as remote from '../remote/vm'
import type { RunWriter } from '../store/run-writer'
import { arrivals, baselineGap, traceGaps, UdpProbe, type Silence } from './probe'
import { aroundGap, decompose, SwitchoverCapture } from './wire'
import { pollUntil, waitFor } from '../util/poll'
import { formatMetric, HEADLINE_METRICS } from '../../shared/metrics'

export interface Experiment {
  labId: number | null
  /** The VM's definition; each run boots it afresh with the run's workload and memory layout. */
  vm: VmSpec
  from: NodeLink
  to: NodeLink
  strategies: StrategyId[]
  workloads: Workload[]
  repetitions: number
  params: MigrationParams
}

export interface ExperimentResult {
  runIds: number[]
  succeeded: number
  failed: number
}

/** Baseline: replies must flow this long without a silence over CLEAN_SILENCE_MS before migrating. */
const BASELINE_MS = 300
const CLEAN_SILENCE_MS = 50
/** How long the guest may take to answer the probe at all after boot, and to settle into a clean baseline. */
const FIRST_REPLY_TIMEOUT_MS = 15_000
const CLEAN_BASELINE_TIMEOUT_MS = 5_000
/** The migration window ends this long after the destination resumes (the guest's reply delay). */
const SETTLE_MS = 500
/** After the window, how long to wait for a first reply before calling the gap open. */
const LAST_CHANCE_MS = 5_000

/** Errors after which the VM's whereabouts are unknown: stop the experiment rather than boot a second copy. */
const FATAL = new Set(['vm_state_unclear', 'postcopy_failed', 'vm_stop_failed'])

const fmtDuration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/** One line a reader scans as runs arrive: the headline figures, '—' for what was not measured. */
export const runLine = (n: number, strategy: string, workload: string, m: Record<string, number>): string =>
  `Run ${n} (${strategy}, ${workload}): ${HEADLINE_METRICS.map((d) => `${d.short} ${formatMetric(d.key, m[d.key])}`).join(' · ')}`

/** (strategy × workload × repetition) as one job; repetitions interleave so drift hits every group alike. */
export interface RunnerDeps {
  driver: HypervisorDriver
  writer: RunWriter
  clocks: NodeClocks
}

export async function runExperiment(ctx: JobContext, deps: RunnerDeps, x: Experiment): Promise<ExperimentResult> {
  const matrix = Array.from({ length: x.repetitions }, (_, rep) => x.workloads.flatMap((w) => x.strategies.map((s) => ({ rep: rep + 1, w, s })))).flat()
  ctx.progress(0, 'Recording the environment')
  const [fromEnv, toEnv] = await Promise.all([deps.driver.environment(x.from), deps.driver.environment(x.to)])
  const environment = { driver: deps.driver.kind, nodes: { [x.from.name]: fromEnv, [x.to.name]: toEnv }, management: { hostname: hostname(), node: process.version, platform: `${process.platform} ${process.arch}` } }
  const result: ExperimentResult = { runIds: [], succeeded: 0, failed: 0 }
  const started = Date.now()
  for (const [i, cell] of matrix.entries()) {
    ctx.checkCancelled()
    const eta = i ? ` · ETA ${fmtDuration(((Date.now() - started) / i) * (matrix.length - i))}` : ''
    ctx.progress(i / matrix.length, `Run ${i + 1}/${matrix.length} · ${cell.s} · ${workloadLabel(cell.w)} · rep ${cell.rep}/${x.repetitions}${eta}`)
    const run = await runOne(ctx, deps, x, cell.s, cell.w, cell.rep, environment)
    result.runIds.push(run.id)
    if (run.error) {
      result.failed++
      ctx.log(run.error.code === 'cancelled' ? 'warn' : 'error', `Run ${run.id} (${cell.s}, ${workloadLabel(cell.w)}): ${run.error.message}`)
      if (run.error.code === 'cancelled' || FATAL.has(run.error.code)) throw new MigLabError(run.error.code, run.error.message, run.error.detail)
    } else {
      result.succeeded++
      ctx.log('info', runLine(run.id, cell.s, workloadLabel(cell.w), run.metrics))
    }
  }
  return result
}

async function nicCounters(node: NodeLink, peer: NodeLink): Promise<{ dev: string; tx: number; rx: number } | undefined> {
  const r = await node.exec(remote.nicCounters(peer.address), { timeoutMs: 10_000 }).catch(() => undefined)
  const [dev, tx, rx] = r?.code === 0 ? r.stdout.trim().split(/\s+/) : []
  return dev ? { dev, tx: Number(tx), rx: Number(rx) } : undefined
}

/** The probe's figures by metric key; absent (not 0) when there was no silence to find. */
export function gapMetrics({ gap, longest }: { gap?: Silence; longest?: Silence }): Record<string, number> {
  return {
    ...(gap ? { probe_gap_ms: gap.ms, probe_gap_start_ms: gap.startMs, probe_gap_end_ms: gap.endMs, probe_gap_open: gap.open ? 1 : 0 } : {}),
    ...(longest ? { probe_longest_silence_ms: longest.ms, probe_longest_silence_start_ms: longest.startMs } : {}),
  }
}

/**
 * Waits until the probe has a clean baseline: a first reply (the guest answers at all), then
 * BASELINE_MS of replies with no silence over CLEAN_SILENCE_MS. Resolves with the baseline figures;
 * `clean` false when the deadline passed first (the run is flagged, never silently mixed in).
 */
async function awaitBaseline(probe: UdpProbe, clock: () => number, signal: AbortSignal): Promise<{ firstReplyMs: number; gapMs: number; clean: boolean }> {
  const first = await pollUntil(() => probe.replies[0]?.receivedAt, { timeoutMs: FIRST_REPLY_TIMEOUT_MS, intervalMs: 10, signal })
  if (first === undefined) {
    throw new MigLabError('probe_no_reply', `The guest did not answer the UDP probe within ${FIRST_REPLY_TIMEOUT_MS / 1000} s of booting, so no client-observed gap could be measured.`, {
      hint: "Check the guest's echo server and its network (the node's tap on the lab bridge); the migration was not started.",
    })
  }
  const silence = (from: number) => baselineGap(arrivals(probe.replies), from, clock())
  const cleanAt = await pollUntil(() => (clock() - first >= BASELINE_MS && silence(clock() - BASELINE_MS) <= CLEAN_SILENCE_MS ? clock() : undefined), {
    timeoutMs: CLEAN_BASELINE_TIMEOUT_MS,
    intervalMs: 10,
    signal,
  })
  return { firstReplyMs: first - probe.startMs, gapMs: silence(cleanAt === undefined ? first : cleanAt - BASELINE_MS), clean: cleanAt !== undefined }
}

async function runOne(
  ctx: JobContext,
  { driver, writer, clocks }: RunnerDeps,
  x: Experiment,
  strategy: StrategyId,
  w: Workload,
  rep: number,
  environment: Record<string, unknown>,
): Promise<{ id: number; metrics: Record<string, number>; error?: ReturnType<typeof toApiError> }> {
  const t0 = performance.now()
  const clock = () => performance.now() - t0
  const reuse = await reusableGuest(driver, x, strategy, w)
  // A reused guest is migrated from wherever the last run left it: runs then alternate direction.
  const [from, to] = reuse?.node === x.to.name ? [x.to, x.from] : [x.from, x.to]
  const id = writer.create({
    labId: x.labId,
    jobId: ctx.id,
    vm: x.vm.name,
    strategy,
    workload: workloadLabel(w),
    params: { ...x.params, strategy, workload: w, repetition: rep, from: from.name, to: to.name },
    environment,
  })
  const metrics: Record<string, number> = {}
  const phase = (name: string, data: Record<string, unknown> = {}) => writer.event(id, clock(), 'phase', { phase: name, ...data })
  let probe: UdpProbe | undefined
  let window: { startMs: number; endMs: number } | undefined
  let nicBefore: Awaited<ReturnType<typeof nicCounters>>[] = []
  let capture: SwitchoverCapture | undefined
  /** Stores the frames around the gap and the gap's decomposition (or why there is none). */
  const closeCapture = async (resumeMs?: number, stopMs?: number) => {
    if (!capture) return
    const c = capture
    capture = undefined
    const seen = await c.stop()
    const gap = metrics.probe_gap_open === 0 ? { startMs: metrics.probe_gap_start_ms, endMs: metrics.probe_gap_end_ms } : undefined
    if (!gap || resumeMs === undefined) return void writer.event(id, clock(), 'unmeasured', { gap_downtime_ms: 'no closed gap across a RESUME to decompose' })
    for (const [series, points] of Object.entries(seen)) for (const [t, kind] of aroundGap(points, gap)) writer.sample(id, t, `wire.${series}`, kind)
    const parts = decompose(seen, gap, { resumeMs, ...(stopMs !== undefined ? { stopMs } : {}) })
    if ('unmeasured' in parts) return void writer.event(id, clock(), 'unmeasured', { gap_downtime_ms: parts.unmeasured })
    Object.assign(metrics, parts.metrics)
    writer.event(id, gap.startMs, 'wire.switchover', { ...parts.marks })
  }
  /** Both nodes' NIC counters, stored as read (the raw data the NIC figures are differences of). */
  const readNics = async (phase: 'before' | 'after') => {
    const read = await Promise.all([nicCounters(from, to), nicCounters(to, from)])
    writer.event(id, clock(), 'nic.counters', { phase, src: read[0] ? { node: from.name, ...read[0] } : null, dst: read[1] ? { node: to.name, ...read[1] } : null })
    return read
  }
  const nicDeltas = async () => {
    const after = await readNics('after')
    ;(['src', 'dst'] as const).forEach((side, i) => {
      const b = nicBefore[i]
      const a = after[i]
      if (b && a && a.dev === b.dev) Object.assign(metrics, { [`${side}_tx_bytes`]: a.tx - b.tx, [`${side}_rx_bytes`]: a.rx - b.rx })
    })
  }
  /** Stops the probe and stores what it saw: counts, lost probes, and the gaps of the migration window (if one began). */
  const closeProbe = async (drainMs: number, switchover?: { stopMs: number; resumeMs: number }) => {
    if (!probe) return
    const p = probe
    probe = undefined
    const report = await p.stop(drainMs)
    Object.assign(metrics, { probe_sent: report.sent, probe_lost: report.lost, probe_late: report.late })
    const lostSentAt = p.unanswered()
    for (const t of lostSentAt) writer.sample(id, t, 'probe.lost', 1)
    if (!window) return
    const trace = { window, traceEndMs: report.stoppedAtMs, switchover, arrivals: arrivals(p.replies), lostSentAt }
    const gaps = traceGaps(trace)
    Object.assign(metrics, gapMetrics(gaps))
    writer.event(id, window.startMs, 'probe.window', { window, traceEndMs: trace.traceEndMs, switchover, ...gaps })
  }
  try {
    const spec = driver.definition(x.vm, { strategy, workload: w, params: x.params })
    if (reuse) {
      phase('reuse', { node: from.name })
      writer.event(id, clock(), 'unmeasured', { boot_ms: 'the guest was reused: it already ran with this definition' })
    } else {
      phase('boot', { node: from.name, append: spec.append })
      // A fresh boot: the workload is part of the VM's definition and dsm needs RAM in a shared file.
      await driver.stop(from, x.vm.name)
      await driver.stop(to, x.vm.name)
      const bootAt = clock()
      await driver.start(from, spec, { signal: ctx.signal })
      metrics.boot_ms = clock() - bootAt
    }
    nicBefore = await readNics('before')
    if (!spec.echo) writer.event(id, clock(), 'unmeasured', { probe_gap_ms: 'the VM has no UDP echo target, so no client could be probed' })
    else {
      probe = new UdpProbe(spec.echo, x.params.probeIntervalMs, clock, (r) => writer.sample(id, r.sentAt, 'probe.rtt_ms', r.receivedAt - r.sentAt))
      await probe.start()
      const baseline = await awaitBaseline(probe, clock, ctx.signal)
      Object.assign(metrics, { probe_baseline_gap_ms: baseline.gapMs, probe_baseline_clean: baseline.clean ? 1 : 0 })
      writer.event(id, clock(), 'probe.baseline', baseline)
      if (!baseline.clean) ctx.log('warn', `Run ${id}: the probe's baseline was not clean (a ${Math.round(baseline.gapMs)} ms silence before the migration); the run is flagged.`)
    }
    if (probe) {
      const started = await SwitchoverCapture.start(from, to, spec, clocks, clock)
      if ('unmeasured' in started) writer.event(id, clock(), 'unmeasured', { gap_downtime_ms: started.unmeasured })
      else capture = started
    }
    const migrateAt = clock()
    phase('migrate', { strategy })
    window = { startMs: migrateAt, endMs: Infinity }
    const out = await driver.migrate(x.vm.name, from, to, strategy, x.params, {
      signal: ctx.signal,
      clock,
      onSample: (s) => {
        for (const [series, v] of Object.entries(s.values)) writer.sample(id, s.tMs, series, v)
      },
      onEvent: (e) => writer.event(id, e.tMs, e.kind, { ...e.data, ...(e.node ? { node: e.node } : {}) }),
    })
    const migratedAt = clock()
    metrics.wall_ms = migratedAt - migrateAt
    Object.assign(metrics, out.figures)
    if (Object.keys(out.unmeasured).length) writer.event(id, migratedAt, 'unmeasured', out.unmeasured)
    if (out.stopAtMs !== undefined) writer.event(id, out.stopAtMs, 'downtime.stop', { node: from.name })
    if (out.resumeAtMs !== undefined) writer.event(id, out.resumeAtMs, 'downtime.resume', { node: to.name })
    writer.metrics(id, metrics)
    if (probe) {
      window = { startMs: migrateAt, endMs: Math.max(out.resumeAtMs ?? migratedAt, migratedAt) + SETTLE_MS }
      await sleep(Math.max(0, window.endMs - clock()))
      // A guest slow to answer again still closes its gap, up to a limit; past it the gap stays open.
      const p = probe
      await waitFor(() => (p.replies.at(-1)?.receivedAt ?? 0) > (out.resumeAtMs ?? migratedAt), { timeoutMs: LAST_CHANCE_MS, intervalMs: 10, signal: ctx.signal })
      await closeProbe(200, out.stopAtMs !== undefined && out.resumeAtMs !== undefined ? { stopMs: out.stopAtMs, resumeMs: out.resumeAtMs } : undefined)
      await closeCapture(out.resumeAtMs, out.stopAtMs)
    }
    await nicDeltas()
    metrics.run_wall_ms = clock()
    writer.finish(id, 'succeeded', metrics)
    return { id, metrics }
  } catch (err) {
    const error = toApiError(err)
    if (window) window.endMs = clock()
    await closeProbe(0).catch(() => undefined)
    await capture?.stop().catch(() => undefined)
    if (nicBefore.length) await nicDeltas()
    metrics.run_wall_ms = clock()
    writer.finish(id, error.code === 'cancelled' || ctx.signal.aborted ? 'cancelled' : 'failed', metrics, error)
    return { id, metrics, error }
  }
}

/**
 * With `reuseGuest`, the running guest when it can serve this run as it is: running on one of the two
 * nodes only, with exactly the definition this run would boot. Otherwise undefined (boot afresh).
 */
async function reusableGuest(driver: HypervisorDriver, x: Experiment, strategy: StrategyId, w: Workload): Promise<{ node: string } | undefined> {
  if (!x.params.reuseGuest) return undefined
  let want: VmSpec
  try {
    want = driver.definition(x.vm, { strategy, workload: w, params: x.params })
  } catch {
    return undefined // the run reports it when it builds the definition itself
  }
  const copies = (await driver.listVms([x.from, x.to]).catch(() => [])).filter((v) => v.spec.name === x.vm.name)
  if (copies.length !== 1 || copies[0].state !== 'running') return undefined
  const { accel: _a, ...running } = copies[0].spec
  const { accel: _b, ...wanted } = want
  return JSON.stringify(running) === JSON.stringify(wanted) ? { node: copies[0].node } : undefined
}
