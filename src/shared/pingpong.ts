/**
 * The MPI ping-pong benchmark's figures, derived from its raw lines (`pingpong <bytes> <round trips>
 * <seconds>`): latency is half a round trip, bandwidth the message size over that half. Main and the
 * renderer both derive them from the stored raw samples, so a shown figure is always recomputable.
 */

export interface PingPongSample {
  bytes: number
  roundTrips: number
  seconds: number
}

export interface PingPongPoint extends PingPongSample {
  /** Half a round trip, µs. */
  latencyUs: number
  /** bytes / half a round trip, GB/s (10^9 bytes per second). */
  bandwidthGBps: number
}

/** What the benchmark step stores with the lab (the setup step's facts). */
export interface PingPongResult {
  /** Raw lines as the benchmark printed them. */
  samples: PingPongSample[]
  /** Where each rank ran (rank 0, rank 1), by the host name MPI reported. */
  ranks: string[]
  /** The mpirun command line that produced them. */
  command: string
  at: string
}

export function parsePingPong(stdout: string): { samples: PingPongSample[]; ranks: string[] } {
  const samples: PingPongSample[] = []
  const ranks: string[] = []
  for (const line of stdout.split('\n')) {
    const m = /^pingpong (\d+) (\d+) (\d+(?:\.\d+)?)$/.exec(line.trim())
    if (m && Number(m[2]) > 0 && Number(m[3]) > 0) samples.push({ bytes: Number(m[1]), roundTrips: Number(m[2]), seconds: Number(m[3]) })
    const r = /^rank (\d+) (\S+)$/.exec(line.trim())
    if (r) ranks[Number(r[1])] = r[2]
  }
  return { samples, ranks }
}

export function pingPongPoints(samples: PingPongSample[]): PingPongPoint[] {
  return samples.map((s) => {
    const half = s.seconds / s.roundTrips / 2
    return { ...s, latencyUs: half * 1e6, bandwidthGBps: s.bytes / half / 1e9 }
  })
}

/** `8 B`, `32 KiB`, `2 MiB`. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} B`
}

/** Reads a stored step's facts as a ping-pong result, or undefined when they are not one. */
export function asPingPong(facts: Record<string, unknown> | undefined): PingPongResult | undefined {
  const p = facts?.pingpong as PingPongResult | undefined
  return p && Array.isArray(p.samples) && p.samples.length > 0 ? p : undefined
}
