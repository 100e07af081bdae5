import { readFileSync } from 'node:fs'

/**
 * Who owns a job: `boot id:pid:start time` on Linux (a pid reused after a reboot or by a new
 * process never matches), `pid:N` elsewhere. Several MigLab processes (app, browser mode, CLI)
 * share one history; a start must only reconcile the jobs of processes that are gone.
 */
function identityOf(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    // Field 22 of /proc/PID/stat, counted after the command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    return `${boot}:${pid}:${start}`
  } catch {
    return undefined
  }
}

export const selfIdentity = (): string => identityOf(process.pid) ?? `pid:${process.pid}`

/** Whether the process that wrote `identity` still runs. */
export function isAlive(identity: string | null): boolean {
  if (!identity) return false
  const pid = Number(identity.startsWith('pid:') ? identity.slice(4) : identity.split(':')[1])
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (!identity.startsWith('pid:')) return identityOf(pid) === identity
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
