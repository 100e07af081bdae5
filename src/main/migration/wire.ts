import type { VmSpec } from '../hypervisors/driver'
import type { NodeClocks } from '../hypervisors/node-clock'
import type { NodeLink } from '../hypervisors/node-link'
import { startCapture, stopCapture } from '../remote/capture'
import { epochAtZero } from '../util/epoch'
import { storedTrace, traceGaps } from './probe'

/**
 * The switchover as the wire saw it: tcpdump on the guest's tap on both nodes, placed on the run
 * timeline. It splits the client-observed gap into what happened where: the guest running nowhere
 * (last reply → RESUME), the network learning the guest's new port (→ first probe delivered to the
 * destination's tap), the guest waking (→ its first reply on that tap) and the way back to the probe.
 */

/** Frames on a tap, as stored in the `wire.source` / `wire.destination` series (value = kind). */
export const WIRE_KIND = { request: 1, reply: 2, announce: 3 } as const
export type WireKind = (typeof WIRE_KIND)[keyof typeof WIRE_KIND]
export type WirePoint = [tMs: number, kind: WireKind]

const LINE = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype [^(]*\(0x([0-9a-f]{4})\), length \d+: (.*)$/
const UDP = /^\S+\.(\d+) > \S+\.(\d+): UDP/
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/

/** tcpdump `-nn -e -tt` text → the probe's requests and replies and the guest's announces, on the run timeline. Pure. */
export function parseCapture(text: string, mac: string, echoPort: number, toTimeline: (nodeEpochMs: number) => number): WirePoint[] {
  const guest = mac.toLowerCase()
  const out: WirePoint[] = []
  for (const line of text.split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const [, ts, src, dst, type, rest] = m
    const t = toTimeline(Number(ts) * 1000)
    if ((type === '8035' || type === '0806') && src === guest) out.push([t, WIRE_KIND.announce])
    const udp = type === '0800' ? UDP.exec(rest) : null
    if (!udp) continue
    if (src === guest && Number(udp[1]) === echoPort) out.push([t, WIRE_KIND.reply])
    else if (dst === guest && Number(udp[2]) === echoPort) out.push([t, WIRE_KIND.request])
  }
  return out
}

export interface SwitchoverMarks {
  gapStartMs: number
  resumeMs: number
  firstRequestMs: number
  firstReplyMs: number
  gapEndMs: number
  stopMs?: number
  lastSourceReplyMs?: number
  announceMs?: number
}

/**
 * The gap's decomposition: consecutive spans from the gap's start to its end (five when STOP is known,
 * else four), so they add up to the client-observed gap exactly. A first request delivered before RESUME (the network had already
 * converged) makes convergence 0, not negative. Pure.
 */
export function decompose(
  wire: { source: readonly WirePoint[]; destination: readonly WirePoint[] },
  gap: { startMs: number; endMs: number },
  switchover: { resumeMs: number; stopMs?: number },
): { metrics: Record<string, number>; marks: SwitchoverMarks } | { unmeasured: string } {
  const after = (kind: WireKind, from: number) => wire.destination.find(([t, k]) => k === kind && t >= from)?.[0]
  const firstRequestMs = after(WIRE_KIND.request, gap.startMs)
  if (firstRequestMs === undefined) return { unmeasured: "no probe reached the destination's tap during the capture" }
  // A request the source took in before STOP travels in the guest's NIC queue and may be answered on the
  // destination before any new request gets there: the first reply counts from the gap's start.
  const firstReplyMs = after(WIRE_KIND.reply, gap.startMs)
  if (firstReplyMs === undefined) return { unmeasured: "the guest sent no reply from the destination's tap during the capture" }
  const announceMs = after(WIRE_KIND.announce, gap.startMs)
  const lastSourceReplyMs = wire.source.filter(([t, k]) => k === WIRE_KIND.reply && t <= switchover.resumeMs).at(-1)?.[0]
  // QEMU stamps RESUME once the vCPUs run again, so the guest's first reply may come microseconds
  // before that stamp (seen: 10 µs): the reply proves the guest ran, and the downtime ends there.
  const resumed = Math.min(switchover.resumeMs, firstReplyMs)
  // The network bounded the gap only if the first reply waited for a new request to arrive.
  const converged = firstReplyMs < firstRequestMs ? resumed : Math.max(resumed, firstRequestMs)
  // STOP splits the silence before RESUME: the source still running but not answering, then the guest running nowhere.
  const stopped = switchover.stopMs === undefined ? undefined : Math.min(Math.max(switchover.stopMs, gap.startMs), resumed)
  const metrics: Record<string, number> = {
    ...(stopped !== undefined ? { gap_source_silent_ms: stopped - gap.startMs } : {}),
    gap_downtime_ms: resumed - (stopped ?? gap.startMs),
    gap_convergence_ms: converged - resumed,
    gap_warmup_ms: firstReplyMs - converged,
    gap_return_ms: gap.endMs - firstReplyMs,
  }
  if (announceMs !== undefined) metrics.gap_announce_ms = announceMs - switchover.resumeMs
  const marks: SwitchoverMarks = { gapStartMs: gap.startMs, resumeMs: switchover.resumeMs, firstRequestMs, firstReplyMs, gapEndMs: gap.endMs }
  if (switchover.stopMs !== undefined) marks.stopMs = switchover.stopMs
  if (lastSourceReplyMs !== undefined) marks.lastSourceReplyMs = lastSourceReplyMs
  if (announceMs !== undefined) marks.announceMs = announceMs
  return { metrics, marks }
}

/** The frames worth keeping with the run: those around the gap (the decomposition is recomputed from them). */
export const aroundGap = (points: readonly WirePoint[], gap: { startMs: number; endMs: number }, marginMs = 100): WirePoint[] =>
  points.filter(([t]) => t >= gap.startMs - marginMs && t <= gap.endMs + marginMs)

/** A stored run's decomposition, recomputed from its `wire.*` samples, its probe trace and its RESUME event. */
export function storedSwitchover(run: { samples: Record<string, [number, number][]>; events: { tMs: number; kind: string; data: Record<string, unknown> }[] }): ReturnType<typeof decompose> | undefined {
  const trace = storedTrace(run)
  const gap = trace && traceGaps(trace).gap
  const resumeMs = run.events.find((e) => e.kind === 'downtime.resume')?.tMs
  const stopMs = run.events.find((e) => e.kind === 'downtime.stop')?.tMs
  const [source, destination] = [run.samples['wire.source'], run.samples['wire.destination']] as (WirePoint[] | undefined)[]
  if (!gap || gap.open || resumeMs === undefined || !source || !destination) return undefined
  return decompose({ source, destination }, gap, { resumeMs, ...(stopMs !== undefined ? { stopMs } : {}) })
}

interface Tap {
  node: NodeLink
  dir: string
  offsetMs: number
}

/** tcpdump running on the guest's tap of both nodes; `stop` returns what each saw. */
export class SwitchoverCapture {
  private constructor(
    private readonly taps: { source: Tap; destination: Tap },
    private readonly mac: string,
    private readonly echoPort: number,
    private readonly epochAtZero: number,
  ) {}

  /** Starts on both nodes, or says why the switchover cannot be captured for this VM. */
  static async start(source: NodeLink, destination: NodeLink, spec: VmSpec, clocks: NodeClocks, timeline: () => number): Promise<SwitchoverCapture | { unmeasured: string }> {
    const mac = spec.nic?.mac.toLowerCase()
    if (!mac || !MAC.test(mac) || !spec.echo) return { unmeasured: 'the VM has no NIC with a MAC and UDP echo MigLab could watch' }
    const taps: Partial<Record<'source' | 'destination', Tap>> = {}
    const started = await Promise.allSettled(
      (['source', 'destination'] as const).map(async (role) => {
        const node = role === 'source' ? source : destination
        const iface = spec.nic!.taps[node.name]
        if (!iface) throw new Error(`the VM has no tap on node ${node.name}`)
        const [clock, r] = await Promise.all([clocks.of(node), node.exec(startCapture(iface, mac), { timeoutMs: 15_000 })])
        if (r.code !== 0) throw new Error(`tcpdump could not capture on ${iface} of node ${node.name}: ${(r.stderr.trim().split('\n').at(-1) ?? '') || `exit ${r.code}`}`)
        taps[role] = { node, dir: r.stdout.trim(), offsetMs: clock.offsetMs }
      }),
    )
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed || !taps.source || !taps.destination) {
      await Promise.all(Object.values(taps).map((t) => t.node.exec(stopCapture(t.dir), { timeoutMs: 15_000 }).catch(() => undefined)))
      return { unmeasured: failed ? String((failed.reason as Error).message ?? failed.reason) : 'the capture did not start' }
    }
    return new SwitchoverCapture({ source: taps.source, destination: taps.destination }, mac, spec.echo.port, epochAtZero(timeline))
  }

  /** Stops both captures (their folders removed) and returns the frames on the run timeline. */
  async stop(): Promise<{ source: WirePoint[]; destination: WirePoint[] }> {
    const read = async (t: Tap) => {
      const r = await t.node.exec(stopCapture(t.dir), { timeoutMs: 30_000 })
      return parseCapture(r.stdout, this.mac, this.echoPort, (ms) => ms - t.offsetMs - this.epochAtZero)
    }
    const [source, destination] = await Promise.all([read(this.taps.source), read(this.taps.destination)])
    return { source, destination }
  }
}
