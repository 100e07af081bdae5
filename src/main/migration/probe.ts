import { Worker } from 'node:worker_threads'

/** One answered probe datagram, on the run timeline (ms). */
export interface ProbeReply {
  seq: number
  sentAt: number
  receivedAt: number
}

/** A silence between two replies, on the run timeline. */
export interface Silence {
  ms: number
  /** The last reply before it. */
  startMs: number
  /** The first reply after it; the trace's end when none came (`open`). */
  endMs: number
  /** No reply came after it before the probe stopped: the guest never answered again. */
  open: boolean
  /** Probes sent inside it that were never answered; absent when unknown (an interrupted run). */
  lost?: number
}

export interface ProbeReport {
  sent: number
  received: number
  lost: number
  /** Replies that came back slower than `lateAfterMs`. */
  late: number
}

/** Arrival times of the distinct replies (duplicates dropped, reordering undone), ascending. */
export function arrivals(replies: readonly ProbeReply[]): number[] {
  const seen = new Set<number>()
  return replies
    .filter((r) => !seen.has(r.seq) && seen.add(r.seq))
    .map((r) => r.receivedAt)
    .sort((a, b) => a - b)
}

/**
 * The guest's silences: spans between consecutive replies (and from the last reply to `traceEndMs`)
 * during which at least one probe went out and was never answered. A span without a lost probe is
 * MigLab's own pause (a busy event loop sends nothing and reads replies late), not the guest's. Pure.
 */
export function silences(times: readonly number[], lostSentAt: readonly number[] | undefined, traceEndMs: number): Silence[] {
  const lost = [...(lostSentAt ?? [])].sort((a, b) => a - b)
  const out: Silence[] = []
  let k = 0
  const span = (startMs: number, endMs: number, open: boolean) => {
    // Unknown losses (the probe never stopped to count them): every span is taken as a silence.
    if (!lostSentAt) return void out.push({ ms: endMs - startMs, startMs, endMs, open })
    while (k < lost.length && lost[k] <= startMs) k++
    let n = 0
    while (k + n < lost.length && lost[k + n] < endMs) n++
    if (n) out.push({ ms: endMs - startMs, startMs, endMs, open, lost: n })
  }
  for (let i = 1; i < times.length; i++) span(times[i - 1], times[i], false)
  if (times.length && traceEndMs > times[times.length - 1]) span(times[times.length - 1], traceEndMs, true)
  return out
}

/**
 * The client-observed gap of a migration: the guest silence that spans RESUME — from the last reply
 * read before the destination resumed (the guest answers nothing between STOP and RESUME, so that
 * reply left before STOP, however late it was read) to the first reply after — where the driver
 * reports STOP/RESUME; otherwise the longest silence overlapping the migration window. Pure.
 */
export function switchoverGap(all: readonly Silence[], window: { startMs: number; endMs: number }, switchover?: { stopMs: number; resumeMs: number }): Silence | undefined {
  const spanning = switchover && all.find((g) => g.startMs <= switchover.resumeMs && g.endMs > switchover.resumeMs)
  return spanning ?? longestSilence(all, window)
}

/** The longest guest silence overlapping the window (pre-copy starvation, warm-up after resume…). Pure. */
export function longestSilence(all: readonly Silence[], window: { startMs: number; endMs: number }): Silence | undefined {
  return all.filter((g) => g.endMs > window.startMs && g.startMs < window.endMs).reduce<Silence | undefined>((a, g) => (!a || g.ms > a.ms ? g : a), undefined)
}

/** What a run stores of its probe, enough to find its gaps again. */
export interface ProbeTrace {
  arrivals: number[]
  /** Send times of unanswered probes; undefined when never counted (an interrupted run). */
  lostSentAt?: number[]
  traceEndMs: number
  window: { startMs: number; endMs: number }
  switchover?: { stopMs: number; resumeMs: number }
}

/** The switchover gap and the longest silence of a trace: the runner, recovery and tests all use this. */
export function traceGaps(t: ProbeTrace): { gap?: Silence; longest?: Silence } {
  const guest = silences(t.arrivals, t.lostSentAt, t.traceEndMs)
  // The span across RESUME is the guest's by construction (it was stopped, then waking up: replies
  // may come late rather than never), so it is taken from every span between replies.
  const gap = t.switchover ? switchoverGap(silences(t.arrivals, undefined, t.traceEndMs), t.window, t.switchover) : longestSilence(guest, t.window)
  return { gap, longest: longestSilence(gap ? [...guest, gap] : guest, t.window) }
}

/** A stored run's probe trace: replies from `probe.rtt_ms` (stamped at send, value = RTT), losses from `probe.lost`, the rest from its `probe.window` event. */
export function storedTrace(run: { samples: Record<string, [number, number][]>; events: { kind: string; data: Record<string, unknown> }[] }): ProbeTrace | undefined {
  const w = run.events.find((e) => e.kind === 'probe.window')?.data as Omit<ProbeTrace, 'arrivals' | 'lostSentAt'> | undefined
  if (!w) return undefined
  const replies = (run.samples['probe.rtt_ms'] ?? []).map(([t, rtt]) => t + rtt).sort((a, b) => a - b)
  return { window: w.window, traceEndMs: w.traceEndMs, switchover: w.switchover, arrivals: replies, lostSentAt: (run.samples['probe.lost'] ?? []).map(([t]) => t) }
}

/** Longest silence over [fromMs, untilMs], both edges counted: the probe's baseline before migrating. Pure. */
export function baselineGap(times: readonly number[], fromMs: number, untilMs: number): number {
  const inside = [fromMs, ...times.filter((t) => t > fromMs && t <= untilMs), untilMs]
  let max = 0
  for (let i = 1; i < inside.length; i++) max = Math.max(max, inside[i] - inside[i - 1])
  return max
}

export function probeCounts(sent: number, replies: readonly ProbeReply[], lateAfterMs = 250): ProbeReport {
  const seen = new Set<number>()
  const unique = replies.filter((r) => !seen.has(r.seq) && seen.add(r.seq))
  return { sent, received: unique.length, lost: Math.max(0, sent - unique.length), late: unique.filter((r) => r.receivedAt - r.sentAt > lateAfterMs).length }
}

const MAGIC = 0x4d474c42 // "MGLB": replies without it are not ours

/**
 * The probe's socket lives in a thread of its own: the main thread also parses QMP, writes SQLite and
 * serves the UI, and a datagram read late there looked like a guest answering late (a reply sent
 * before STOP read after RESUME). Times are CLOCK_MONOTONIC ms (process.hrtime), the same in every thread.
 * Plain JavaScript so it runs the same under tsx, the CLI and the Electron bundle.
 */
const PROBE_THREAD = `
const { parentPort, workerData: w } = require('node:worker_threads')
const dgram = require('node:dgram')
const now = () => Number(process.hrtime.bigint()) / 1e6
const socket = dgram.createSocket('udp4')
let seq = 0
let timer
const send = () => {
  const b = Buffer.alloc(16)
  b.writeUInt32BE(w.magic, 0)
  b.writeUInt32BE(seq, 4)
  const at = now()
  socket.send(b, w.port, w.ip)
  parentPort.postMessage({ t: 's', seq: seq++, at })
}
socket.on('message', (m) => {
  const at = now()
  if (m.length >= 8 && m.readUInt32BE(0) === w.magic) parentPort.postMessage({ t: 'r', seq: m.readUInt32BE(4), at })
})
socket.on('error', () => undefined) // ICMP unreachable while the guest moves is expected; it counts as loss
socket.bind(0, () => {
  parentPort.postMessage({ t: 'ready' })
  timer = setInterval(send, w.intervalMs)
})
parentPort.on('message', (m) => {
  if (m.t !== 'stop') return
  clearInterval(timer)
  parentPort.postMessage({ t: 'halted', at: now() })
  setTimeout(() => socket.close(() => parentPort.postMessage({ t: 'closed' })), m.drainMs)
})
`

type Stamped = { seq: number; at: number }
type FromThread = ({ t: 's' } & Stamped) | ({ t: 'r' } & Stamped) | { t: 'halted'; at: number } | { t: 'ready' } | { t: 'closed' }

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6

/**
 * Client-side availability probe, run where MigLab runs: a numbered UDP datagram every
 * `intervalMs` to the guest's echo server; each reply is handed to `onReply` as it arrives.
 */
export class UdpProbe {
  private thread: Worker | undefined
  private readonly sentAt = new Map<number, number>()
  private toTimeline: (monotonic: number) => number = (t) => t
  private halted: ((atMs: number) => void) | undefined
  private closed: (() => void) | undefined
  readonly replies: ProbeReply[] = []
  /** When the first datagram went out, on the run timeline. */
  startMs = 0

  constructor(
    private readonly target: { ip: string; port: number },
    private readonly intervalMs: number,
    private readonly clock: () => number,
    private readonly onReply?: (r: ProbeReply) => void,
  ) {}

  async start(): Promise<void> {
    // One instant read on both clocks: the thread's monotonic stamps map onto the run timeline.
    const [m0, c0] = [monotonicMs(), this.clock()]
    this.toTimeline = (t) => c0 + (t - m0)
    const thread = new Worker(PROBE_THREAD, { eval: true, workerData: { ...this.target, intervalMs: this.intervalMs, magic: MAGIC } })
    this.thread = thread
    await new Promise<void>((resolve, reject) => {
      thread.once('error', reject)
      thread.on('message', (m: FromThread) => {
        if (m.t === 'ready') return resolve()
        if (m.t === 'closed') return this.closed?.()
        const at = this.toTimeline(m.at)
        if (m.t === 'halted') return this.halted?.(at)
        if (m.t === 's') return void this.sentAt.set(m.seq, at)
        const sentAt = this.sentAt.get(m.seq)
        if (sentAt === undefined) return
        const reply = { seq: m.seq, sentAt, receivedAt: at }
        this.replies.push(reply)
        this.onReply?.(reply)
      })
    })
    this.startMs = this.clock()
  }

  /** Send times of the probes that got no reply (so far). */
  unanswered(): number[] {
    const answered = new Set(this.replies.map((r) => r.seq))
    return [...this.sentAt].filter(([seq]) => !answered.has(seq)).map(([, at]) => at)
  }

  /** Stops sending, waits `drainMs` for replies in flight, and reports; `stoppedAtMs` (the last send) ends the trace. */
  async stop(drainMs = 200, lateAfterMs?: number): Promise<ProbeReport & { stoppedAtMs: number }> {
    const thread = this.thread
    this.thread = undefined
    if (!thread) return { ...probeCounts(this.sentAt.size, this.replies, lateAfterMs), stoppedAtMs: this.clock() }
    const halted = new Promise<number>((resolve) => (this.halted = resolve))
    const closed = new Promise<void>((resolve) => (this.closed = resolve))
    thread.postMessage({ t: 'stop', drainMs })
    const stoppedAtMs = await halted
    await closed
    await thread.terminate()
    return { ...probeCounts(this.sentAt.size, this.replies, lateAfterMs), stoppedAtMs }
  }
}
