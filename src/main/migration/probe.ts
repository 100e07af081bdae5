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
 * The client-observed gap: the longest silence between consecutive replies that overlaps the
 * migration window. Silence before the first reply is start-up (a stale switch, a guest still
 * booting), never the migration's; a tail with no reply up to `traceEndMs` is an open gap. Pure.
 */
export function migrationGap(times: readonly number[], window: { startMs: number; endMs: number }, traceEndMs: number): Silence | undefined {
  let gap: Silence | undefined
  const consider = (startMs: number, endMs: number, open: boolean) => {
    if (endMs > window.startMs && startMs < window.endMs && (!gap || endMs - startMs > gap.ms)) gap = { ms: endMs - startMs, startMs, endMs, open }
  }
  for (let i = 1; i < times.length; i++) consider(times[i - 1], times[i], false)
  if (times.length && traceEndMs > times[times.length - 1]) consider(times[times.length - 1], traceEndMs, true)
  return gap
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
