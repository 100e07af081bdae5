import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { workloadLabel, type MigrationParams, type StrategyId, type Workload } from '../../shared/contract/migration'
import { MigLabError, toApiError } from '../../shared/errors'
import type { HypervisorDriver, MigrationOutcome, VmSpec } from '../hypervisors/driver'
import type { NodeLink } from '../hypervisors/node-link'
import { safeId } from '../hypervisors/qemu/command-line'
import type { JobContext } from '../jobs/manager'
import * as remote from '../remote/vm'
import type { RunWriter } from '../store/run-writer'
import { analyzeProbe, UdpProbe, type ProbeReport } from './probe'
import { appendFor } from './workloads'

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

/** Probe time before the migration (the prober's own jitter) and after it (replies resuming). */
const PROBE_BEFORE_MS = 300
const PROBE_AFTER_MS = 500

/** Errors after which the VM's whereabouts are unknown: stop the experiment rather than boot a second copy. */
const FATAL = new Set(['vm_state_unclear', 'postcopy_failed', 'vm_stop_failed'])

/** The VM definition for one run: workload knobs on the command line, RAM in a shared file for dsm. */
export function runSpec(base: VmSpec, strategy: StrategyId, w: Workload, params: MigrationParams): VmSpec {
  const spec: VmSpec = { ...base, append: appendFor(base.append, w, base.echo?.port) }
  delete spec.sharedMemoryPath
  if (strategy === 'dsm') {
    if (!params.sharedMemoryDir) {
      throw new MigLabError('shared_memory_missing', 'The dsm strategy needs a shared memory folder that both nodes see (params.sharedMemoryDir).', {
        hint: 'Use /dev/shm in the demo lab, or the DSM mount point on real nodes.',
      })
    }
    spec.sharedMemoryPath = `${params.sharedMemoryDir.replace(/\/+$/, '')}/miglab-${safeId(base.name)}.ram`
  }
  return spec
}

const fmtDuration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/** (strategy × workload × repetition) as one job; repetitions interleave so drift hits every group alike. */
export async function runExperiment(ctx: JobContext, deps: { driver: HypervisorDriver; writer: RunWriter }, x: Experiment): Promise<ExperimentResult> {
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
    } else result.succeeded++
  }
  return result
}

async function nicCounters(node: NodeLink, peer: NodeLink): Promise<{ dev: string; tx: number; rx: number } | undefined> {
  const r = await node.exec(remote.nicCounters(peer.address), { timeoutMs: 10_000 }).catch(() => undefined)
  const [dev, tx, rx] = r?.code === 0 ? r.stdout.trim().split(/\s+/) : []
  return dev ? { dev, tx: Number(tx), rx: Number(rx) } : undefined
}

function outcomeMetrics(o: MigrationOutcome): Record<string, number> {
  const m: Record<string, number> = {
    qemu_downtime_ms: o.hypervisorDowntimeMs,
    total_ms: o.hypervisorTotalMs,
    transferred_bytes: o.transferredBytes,
    passes: o.passes,
  }
  if (o.setupMs !== undefined) m.setup_ms = o.setupMs
  if (o.stopResumeMs !== undefined) m.stop_resume_ms = o.stopResumeMs
  if (o.clockUncertaintyMs !== undefined) m.clock_uncertainty_ms = o.clockUncertaintyMs
  return m
}

const probeMetrics = (p: ProbeReport, prefix = 'probe'): Record<string, number> => ({
  [`${prefix}_gap_ms`]: p.maxGapMs,
  [`${prefix}_gap_start_ms`]: p.gapStartMs,
  [`${prefix}_gap_end_ms`]: p.gapEndMs,
  [`${prefix}_sent`]: p.sent,
  [`${prefix}_lost`]: p.lost,
  [`${prefix}_late`]: p.late,
})

async function runOne(
  ctx: JobContext,
  { driver, writer }: { driver: HypervisorDriver; writer: RunWriter },
  x: Experiment,
  strategy: StrategyId,
  w: Workload,
  rep: number,
  environment: Record<string, unknown>,
): Promise<{ id: number; error?: ReturnType<typeof toApiError> }> {
  const t0 = performance.now()
  const clock = () => performance.now() - t0
  const id = writer.create({
    labId: x.labId,
    jobId: ctx.id,
    vm: x.vm.name,
    strategy,
    workload: workloadLabel(w),
    params: { ...x.params, strategy, workload: w, repetition: rep, from: x.from.name, to: x.to.name },
    environment,
  })
  const metrics: Record<string, number> = {}
  const phase = (name: string, data: Record<string, unknown> = {}) => writer.event(id, clock(), 'phase', { phase: name, ...data })
  let probe: UdpProbe | undefined
  let nicBefore: Awaited<ReturnType<typeof nicCounters>>[] = []
  const nicDeltas = async () => {
    const after = await Promise.all([nicCounters(x.from, x.to), nicCounters(x.to, x.from)])
    ;(['src', 'dst'] as const).forEach((side, i) => {
      const b = nicBefore[i]
      const a = after[i]
      if (b && a && a.dev === b.dev) Object.assign(metrics, { [`${side}_tx_bytes`]: a.tx - b.tx, [`${side}_rx_bytes`]: a.rx - b.rx })
    })
  }
  try {
    const spec = runSpec(x.vm, strategy, w, x.params)
    phase('boot', { node: x.from.name, append: spec.append })
    // A fresh boot per run: the workload lives on the kernel command line and dsm needs RAM in a shared file.
    await driver.stop(x.from, x.vm.name)
    await driver.stop(x.to, x.vm.name)
    const bootAt = clock()
    await driver.start(x.from, spec, { signal: ctx.signal })
    metrics.boot_ms = clock() - bootAt
    nicBefore = await Promise.all([nicCounters(x.from, x.to), nicCounters(x.to, x.from)])
    if (spec.echo) {
      probe = new UdpProbe(spec.echo, x.params.probeIntervalMs, clock, (r) => writer.sample(id, r.sentAt, 'probe.rtt_ms', r.receivedAt - r.sentAt))
      await probe.start()
      await sleep(PROBE_BEFORE_MS)
    }
    const migrateAt = clock()
    if (probe) Object.assign(metrics, { probe_baseline_gap_ms: analyzeProbe(0, probe.replies, { startMs: probe.startMs, endMs: migrateAt }).maxGapMs })
    phase('migrate', { strategy })
    const out = await driver.migrate(x.vm.name, x.from, x.to, strategy, x.params, {
      signal: ctx.signal,
      clock,
      onSample: (s) => {
        for (const [series, v] of Object.entries(s.values)) writer.sample(id, s.tMs, series, v)
      },
      onEvent: (e) => writer.event(id, e.tMs, e.kind, { ...e.data, ...(e.node ? { node: e.node } : {}) }),
    })
    metrics.wall_ms = clock() - migrateAt
    Object.assign(metrics, outcomeMetrics(out))
    if (out.stopAtMs !== undefined) writer.event(id, out.stopAtMs, 'downtime.stop', { node: x.from.name })
    if (out.resumeAtMs !== undefined) writer.event(id, out.resumeAtMs, 'downtime.resume', { node: x.to.name })
    writer.metrics(id, metrics)
    if (probe) {
      await sleep(PROBE_AFTER_MS)
      const report = await probe.stop()
      probe = undefined
      Object.assign(metrics, probeMetrics(report))
      writer.event(id, report.gapStartMs, 'probe.gap', { ...report })
    }
    await nicDeltas()
    writer.finish(id, 'succeeded', metrics)
    return { id }
  } catch (err) {
    const error = toApiError(err)
    if (probe) Object.assign(metrics, probeMetrics(await probe.stop(0)))
    if (nicBefore.length) await nicDeltas()
    writer.finish(id, error.code === 'cancelled' || ctx.signal.aborted ? 'cancelled' : 'failed', metrics, error)
    return { id, error }
  }
}
