import { readFileSync } from 'node:fs'
import { MigLabError } from '../../shared/errors'
import * as remote from '../remote/vm'
import type { NodeLink } from './node-link'

export interface NodeClock {
  /** Node clock minus this machine's clock, in ms. */
  offsetMs: number
  /** Half the best round trip of the estimate. */
  uncertaintyMs: number
  bootId: string
}

/** Clock offsets drift slowly; measuring them costs SSH round trips, so they are reused this long. */
const CLOCK_TTL_MS = 60_000

/** This machine's kernel boot id ('' where there is none to read, e.g. not Linux). */
const localBootId = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
})()

/**
 * The node's clock against MigLab's. A node on MigLab's own kernel (same boot id: the demo lab) reads
 * the very same clock: offset 0, exactly. Elsewhere the best of five SSH round trips, ± half of it.
 */
async function measureClock(node: NodeLink): Promise<NodeClock> {
  let best: NodeClock = { offsetMs: 0, uncertaintyMs: Infinity, bootId: '' }
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now()
    const r = await node.exec(remote.clockInfo(), { timeoutMs: 10_000 })
    const t1 = Date.now()
    const [bootId, ns] = r.stdout.trim().split('\n')
    if (r.code === 0 && bootId && bootId === localBootId) return { bootId, offsetMs: 0, uncertaintyMs: 0 }
    const remoteMs = Number(ns) / 1e6
    if (r.code === 0 && Number.isFinite(remoteMs) && (t1 - t0) / 2 < best.uncertaintyMs) best = { bootId, offsetMs: remoteMs - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 }
  }
  if (!Number.isFinite(best.uncertaintyMs)) throw new MigLabError('clock_unknown', `Could not read the clock of node ${node.name}.`)
  return best
}

/** Every node's clock against MigLab's, measured once a minute per node (keyed by node id), shared by drivers and the runner. */
export class NodeClocks {
  private readonly clocks = new Map<string, { at: number; clock: Promise<NodeClock> }>()

  of(node: NodeLink): Promise<NodeClock> {
    const cached = this.clocks.get(node.id)
    if (cached && Date.now() - cached.at < CLOCK_TTL_MS) return cached.clock
    const clock = measureClock(node)
    this.clocks.set(node.id, { at: Date.now(), clock })
    clock.catch(() => this.clocks.delete(node.id))
    return clock
  }
}
