import { PassThrough } from 'node:stream'
import type { NodeFacts, PreflightCheck } from '../../shared/domain'
import { execOk } from '../ssh/exec'
import type { SshPool } from '../ssh/pool'
import { checklist } from './checks'
import { clockExchange, parsePreflight, preflightScript } from './script'

const wallMs = (): number => performance.timeOrigin + performance.now()

/** Checks one node with a single exec: facts plus the checklist built from them. */
export async function runPreflight(pool: SshPool, nodeKey: string, signal?: AbortSignal): Promise<{ facts: NodeFacts; checks: PreflightCheck[] }> {
  const stdin = new PassThrough()
  const clock = clockExchange(() => stdin.end('\n'), wallMs)
  const r = await execOk(pool, nodeKey, preflightScript(), { timeoutMs: 30_000, stdin, onStdout: clock.onStdout, ...(signal ? { signal } : {}) })
  const facts = parsePreflight(r.stdout, clock.roundTrip())
  return { facts, checks: checklist(facts, pool.target(nodeKey).user) }
}
