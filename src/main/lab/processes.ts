import { readFileSync, readlinkSync, statSync } from 'node:fs'
import { waitFor } from '../util/poll'

/** Alive and not a zombie: PID 1 here reaps orphans late, so `kill -0` alone says a dead daemon lives. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The state follows the parenthesised command name, which may itself contain spaces or parens.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The process's command line as arguments, or [] when it is gone. */
export function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

/** Whether the process lives in the named network namespace (not in an old one deleted under it). */
export function inNetns(pid: number, namespace: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${statSync(`/run/netns/${namespace}`).ino}]`
  } catch {
    return false
  }
}

export function readPidFile(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once none is running (zombies count as gone). */
export async function killAll(pids: Iterable<number>, graceMs = 1500): Promise<number[]> {
  const targets = [...new Set(pids)].filter((p) => p > 1 && p !== process.pid && isRunning(p))
  for (const pid of targets) signal(pid, 'SIGTERM')
  const allGone = () => !targets.some(isRunning)
  if (!(await waitFor(allGone, { timeoutMs: graceMs, intervalMs: 25 }))) {
    for (const pid of targets.filter(isRunning)) signal(pid, 'SIGKILL')
    await waitFor(allGone, { timeoutMs: 5000, intervalMs: 25 })
  }
  return targets.filter(isRunning)
}
