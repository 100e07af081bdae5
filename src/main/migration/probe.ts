import { createSocket, type Socket } from 'node:dgram'

/** One answered probe datagram, on the run timeline (ms). */
export interface ProbeReply {
  seq: number
  sentAt: number
  receivedAt: number
}

export interface ProbeReport {
  sent: number
  received: number
  lost: number
  /** Replies that came back slower than `lateAfterMs`. */
  late: number
  /** Longest time without a reply, and where it lay on the run timeline. */
  maxGapMs: number
  gapStartMs: number
  gapEndMs: number
}

/**
 * Longest silence between replies (in arrival order) over [startMs, endMs]; the window's edges
 * count, so a guest that never answers again shows the whole tail as a gap. Duplicates are ignored. Pure.
 */
export function analyzeProbe(sent: number, replies: ProbeReply[], window: { startMs: number; endMs: number }, lateAfterMs = 250): ProbeReport {
  const seen = new Set<number>()
  const unique = replies.filter((r) => !seen.has(r.seq) && seen.add(r.seq))
  const times = [window.startMs, ...unique.map((r) => r.receivedAt).sort((a, b) => a - b), window.endMs]
  let gap = { len: 0, start: window.startMs, end: window.startMs }
  for (let i = 1; i < times.length; i++) {
    if (times[i] - times[i - 1] > gap.len) gap = { len: times[i] - times[i - 1], start: times[i - 1], end: times[i] }
  }
  return {
    sent,
    received: unique.length,
    lost: Math.max(0, sent - unique.length),
    late: unique.filter((r) => r.receivedAt - r.sentAt > lateAfterMs).length,
    maxGapMs: gap.len,
    gapStartMs: gap.start,
    gapEndMs: gap.end,
  }
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

  /** Stops sending, waits `drainMs` for replies in flight, and reports. */
  async stop(drainMs = 200, lateAfterMs?: number): Promise<ProbeReport> {
    clearInterval(this.timer)
    const endMs = this.clock()
    await new Promise((r) => setTimeout(r, drainMs))
    this.socket?.close()
    this.socket = undefined
    return analyzeProbe(this.seq, this.replies, { startMs: this.startMs, endMs }, lateAfterMs)
  }
}
