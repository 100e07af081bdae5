import type { RunDetail } from '../../shared/contract/migration'
import { roleSeries } from '../../shared/metrics'
import type { Db } from '../store/db'
import { runDetail } from '../store/run-detail'
import type { RunsRepo } from '../store/runs'
import type { HypervisorDriver } from '../hypervisors/driver'
import type { NodeLink } from '../hypervisors/node-link'
import { traceGaps } from './probe'
import { gapMetrics } from './runner'

interface Clocks {
  epochAtZero: number
  sourceOffsetMs: number
  destinationOffsetMs: number
}

const last = (points: [number, number][] | undefined): number | undefined => points?.[points.length - 1]?.[1]

/**
 * What an interrupted run's stored samples and events still tell, derived the way a finished run
 * derives them and marked `partial`. `lastMs` is the last thing the run recorded (its real end). Pure.
 */
export function deriveInterrupted(run: Pick<RunDetail, 'samples' | 'events'>): { metrics: Record<string, number>; lastMs: number } {
  const probe = run.samples['probe.rtt_ms'] ?? []
  // A probe sample is stamped when its datagram left; its reply arrived `value` ms later.
  const replies = probe.map(([t, rtt]) => t + rtt).sort((a, b) => a - b)
  const lastMs = Math.max(0, ...replies, ...Object.values(run.samples).flatMap((pts) => pts.map(([t]) => t)), ...run.events.map((e) => e.tMs))
  const metrics: Record<string, number> = { partial: 1 }
  // The runner's own 'migrate' phase (the first one) opens the migration window; the probe never
  // stopped to count its losses, so every silence between replies counts.
  const migrate = run.events.find((e) => e.kind === 'phase' && e.data.phase === 'migrate')
  if (migrate && replies.length) Object.assign(metrics, gapMetrics(traceGaps({ arrivals: replies, traceEndMs: lastMs, window: { startMs: migrate.tMs, endMs: lastMs } })))
  const transferred = last(roleSeries(run.samples, 'sent'))
  if (transferred !== undefined) metrics.transferred_bytes = transferred
  const passes = last(roleSeries(run.samples, 'pass'))
  if (passes !== undefined) metrics.passes = passes
  // STOP on the source and RESUME on the destination, from the nodes' own timestamps and the stored clock offsets.
  const clocks = run.events.find((e) => e.data.clocks)?.data.clocks as Clocks | undefined
  const stop = run.events.find((e) => e.kind === 'STOP' && e.data.role === 'source')?.data.nodeTimeMs as number | undefined
  const resume = run.events.find((e) => e.kind === 'RESUME' && e.data.role === 'destination')?.data.nodeTimeMs as number | undefined
  if (clocks && stop !== undefined && resume !== undefined) metrics.stop_resume_ms = resume - clocks.destinationOffsetMs - (stop - clocks.sourceOffsetMs)
  return { metrics, lastMs }
}

/** A copy of the VM that is not running (paused after sending itself, or waiting for a stream that never came). */
const leftover = (state: string): boolean => state !== 'running'

/**
 * Where an interrupted run's VM really is, found on the lab's nodes. When exactly one copy runs, the
 * paused leftovers elsewhere (postmigrate, inmigrate…) are removed, so exactly one copy remains.
 */
export async function recoverPlacement(driver: HypervisorDriver, nodes: NodeLink[], vm: string): Promise<{ runningOn: string[]; removed: { node: string; state: string }[]; note?: string }> {
  const copies = (await driver.listVms(nodes)).filter((v) => v.spec.name === vm)
  const running = copies.filter((c) => !leftover(c.state))
  if (running.length !== 1) {
    return { runningOn: running.map((c) => c.node), removed: [], note: running.length ? 'the VM runs on several nodes: left as it is for you to choose' : 'no running copy: left as it is for inspection' }
  }
  const removed: { node: string; state: string }[] = []
  for (const c of copies.filter((x) => leftover(x.state))) {
    const node = nodes.find((n) => n.name === c.node)
    if (!node) continue
    await driver.stop(node, vm)
    removed.push({ node: c.node, state: c.state })
  }
  return { runningOn: [running[0].node], removed }
}

/**
 * At start: runs a dead process left `running` become `interrupted`, with the figures their stored
 * data still supports (marked partial) and their end set to the last thing they recorded.
 */
export function reconcileInterrupted(db: Db, runs: RunsRepo): number[] {
  const ids = runs.markInterrupted()
  for (const id of ids) {
    const detail = runDetail(db, id)
    if (!detail) continue
    const { metrics, lastMs } = deriveInterrupted(detail)
    runs.recordRecovery(id, { ...detail.metrics, ...metrics }, new Date(Date.parse(detail.startedAt) + lastMs).toISOString())
  }
  return ids
}
