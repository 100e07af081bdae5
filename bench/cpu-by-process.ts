import { readdirSync, readFileSync } from 'node:fs'

const TICK_S = 0.01 // USER_HZ is 100 on Linux

/**
 * CPU seconds used so far by this process's descendants, summed per kind that `kind` names from a
 * command line (a process of no kind counts for its parent's kind). Ended processes count through
 * the parent that reaped them (cutime/cstime), except under Chromium, whose zygote reaps the
 * renderer of a page closed earlier at any time: there only living processes count.
 */
export function cpuByKind(kind: (cmdline: string) => string | undefined): Map<string, number> {
  const procs: { pid: number; ppid: number; cpu: number; cmd: string }[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      // After the name: state ppid … utime stime cutime cstime (fields 14–17 of stat).
      const reaped = cmd.includes('chrom') ? 0 : Number(f[13]) + Number(f[14])
      procs.push({ pid: Number(entry), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + reaped) * TICK_S, cmd })
    } catch {
      // the process ended meanwhile
    }
  }
  const children = new Map<number, typeof procs>()
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p])
  const out = new Map<string, number>()
  const walk = (pid: number, parentKind: string) => {
    for (const c of children.get(pid) ?? []) {
      const k = kind(c.cmd) ?? parentKind
      out.set(k, (out.get(k) ?? 0) + c.cpu)
      walk(c.pid, k)
    }
  }
  walk(process.pid, 'other')
  const own = process.cpuUsage()
  out.set('bench process', (own.user + own.system) / 1e6)
  return out
}
