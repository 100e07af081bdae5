import { createSocket, type Socket } from 'node:dgram'

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
 * Client-side availability probe, run where MigLab runs: a numbered UDP datagram every
 * `intervalMs` to the guest's echo server; each reply is handed to `onReply` as it arrives.
 */
export class UdpProbe {
  private socket: Socket | undefined
  private timer: NodeJS.Timeout | undefined
  private seq = 0
  private readonly sentAt = new Map<number, number>()
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
    const socket = createSocket('udp4')
    this.socket = socket
    socket.on('message', (msg) => {
      if (msg.length < 8 || msg.readUInt32BE(0) !== MAGIC) return
      const seq = msg.readUInt32BE(4)
      const sentAt = this.sentAt.get(seq)
      if (sentAt === undefined) return
      const reply = { seq, sentAt, receivedAt: this.clock() }
      this.replies.push(reply)
      this.onReply?.(reply)
    })
    socket.on('error', () => undefined) // ICMP unreachable while the guest moves is expected; it counts as loss
    await new Promise<void>((resolve) => socket.bind(0, resolve))
    this.startMs = this.clock()
    this.timer = setInterval(() => this.send(), this.intervalMs)
  }

  private send(): void {
    const buf = Buffer.alloc(16)
    buf.writeUInt32BE(MAGIC, 0)
    buf.writeUInt32BE(this.seq, 4)
    this.sentAt.set(this.seq++, this.clock())
    this.socket?.send(buf, this.target.port, this.target.ip)
  }

  /** Send times of the probes that got no reply (so far). */
  unanswered(): number[] {
    const answered = new Set(this.replies.map((r) => r.seq))
    return [...this.sentAt].filter(([seq]) => !answered.has(seq)).map(([, at]) => at)
  }

  /** Stops sending, waits `drainMs` for replies in flight, and reports; `stoppedAtMs` ends the trace. */
  async stop(drainMs = 200, lateAfterMs?: number): Promise<ProbeReport & { stoppedAtMs: number }> {
    clearInterval(this.timer)
    const stoppedAtMs = this.clock()
    await new Promise((r) => setTimeout(r, drainMs))
    this.socket?.close()
    this.socket = undefined
    return { ...probeCounts(this.seq, this.replies, lateAfterMs), stoppedAtMs }
  }
}
