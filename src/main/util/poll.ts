import { setTimeout as sleep } from 'node:timers/promises'
import { MigLabError } from '../../shared/errors'

export interface PollOptions {
  timeoutMs: number
  intervalMs?: number
  signal?: AbortSignal
}

/**
 * The one polling loop: calls `probe` until it returns a value other than undefined, and resolves
 * with it; `undefined` once `timeoutMs` has passed (the caller says what a timeout means).
 * Cancel rejects with `cancelled`. The probe runs at least once, even with a zero timeout.
 */
export async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, o: PollOptions): Promise<T | undefined> {
  const deadline = Date.now() + o.timeoutMs
  for (;;) {
    if (o.signal?.aborted) throw new MigLabError('cancelled', 'Cancelled while waiting.')
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() >= deadline) return undefined
    try {
      await sleep(Math.min(o.intervalMs ?? 20, Math.max(1, deadline - Date.now())), undefined, { signal: o.signal })
    } catch {
      throw new MigLabError('cancelled', 'Cancelled while waiting.')
    }
  }
}

/** `pollUntil` for a condition; true if it held before the timeout. */
export async function waitFor(condition: () => boolean | Promise<boolean>, o: PollOptions): Promise<boolean> {
  return (await pollUntil(async () => ((await condition()) ? true : undefined), o)) === true
}
