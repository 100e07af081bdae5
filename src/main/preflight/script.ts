import type { NodeFacts } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { and, cmd, redirect, seq, type RemoteCommand } from '../remote/command'

export const TOOLS = ['qemu-system-x86_64', 'xe', 'mpirun', 'showmount', 'nfs-ls', 'ganesha.nfsd'] as const
export const DISK_PATHS = ['/', '/var/lib'] as const

const MARK = '@@'

// Every probe is its own section: a missing file or tool empties that section only.
const section = (name: string, c: RemoteCommand): RemoteCommand => seq(cmd('echo', MARK + name), redirect(c, { stderr: '/dev/null' }))

/**
 * The whole preflight as one command, so a node costs one exec. It starts with a clock exchange on
 * the live channel: it says `@@sync`, waits for a line on stdin, then reads its clock, so the
 * measurement spans one network round trip and not the login shell's start-up.
 */
export function preflightScript(): RemoteCommand {
  return seq(
    cmd('echo', `${MARK}sync`),
    cmd('read', 'line'),
    section('clock', cmd('date', '+%s.%N')),
    section('hostname', cmd('uname', '-n')),
    section('kernel', cmd('uname', '-srm')),
    section('os', cmd('cat', '/etc/os-release')),
    section('cpu', cmd('grep', '-m2', '-E', '^(model name|flags)[[:space:]]*:', '/proc/cpuinfo')),
    section('nproc', cmd('nproc')),
    section('kvm', seq(and(cmd('test', '-e', '/dev/kvm'), cmd('echo', 'present')), and(cmd('test', '-w', '/dev/kvm'), cmd('echo', 'writable')))),
    section('mem', cmd('grep', '-E', '^(MemTotal|MemAvailable):', '/proc/meminfo')),
    ...DISK_PATHS.map((p) => section(`df:${p}`, cmd('df', '-P', '-k', p))),
    // sysfs interface dirs are symlinks, hence -L; depth 2 reaches each interface's own files only.
    section('nics', cmd('find', '-L', '/sys/class/net', '-mindepth', '2', '-maxdepth', '2', '(', '-name', 'speed', '-o', '-name', 'operstate', '-o', '-name', 'address', ')', '-exec', 'grep', '-H', '', '{}', '+')),
    ...TOOLS.map((t) => section(`tool:${t}`, cmd('command', '-v', t))),
    // Last, so the exit status is 0 and a cut-short output is recognisable.
    cmd('echo', `${MARK}end`),
  )
}

function sections(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARK)) out.set(line.slice(MARK.length), (current = []))
    else if (current && line !== '') current.push(line)
  }
  return out
}

/** Local wall-clock times (ms): the go-ahead line sent, and the node's clock reading received. */
export interface RoundTrip {
  sentMs: number
  receivedMs: number
}

/** Watches the output for the sync marker and the clock reading, timing the exchange between them. */
export function clockExchange(goAhead: () => void, now: () => number): { onStdout: (chunk: Buffer) => void; roundTrip: () => RoundTrip | null } {
  let seen = ''
  let sentMs: number | undefined
  let receivedMs: number | undefined
  return {
    onStdout: (chunk) => {
      if (receivedMs !== undefined) return
      seen += chunk.toString()
      if (sentMs === undefined && seen.includes(`${MARK}sync\n`)) {
        sentMs = now()
        goAhead()
      }
      if (sentMs !== undefined && /@@clock\n[^\n]*\n/.test(seen)) receivedMs = now()
    },
    roundTrip: () => (sentMs !== undefined && receivedMs !== undefined ? { sentMs, receivedMs } : null),
  }
}

export function parsePreflight(stdout: string, rt: RoundTrip | null): NodeFacts {
  const s = sections(stdout)
  if (!s.has('end')) {
    throw new MigLabError('preflight_incomplete', 'The preflight script stopped before its end.', {
      stderrTail: stdout.split('\n').slice(-20).join('\n'),
      hint: "The node's login shell must be POSIX-compatible (sh, bash, dash, zsh).",
    })
  }
  const one = (name: string): string => s.get(name)?.[0]?.trim() ?? ''
  const kv = (name: string, sep: string): Map<string, string> =>
    new Map((s.get(name) ?? []).map((l) => [l.slice(0, l.indexOf(sep)).trim(), l.slice(l.indexOf(sep) + 1).trim()]))

  const osRelease = kv('os', '=')
  const cpu = kv('cpu', ':')
  const mem = kv('mem', ':')
  const kb = (v: string | undefined): number => (Number.parseInt(v ?? '', 10) || 0) * 1024
  const kvm = s.get('kvm') ?? []

  const nics = new Map<string, { name: string; state: string; speedMbps: number | null; mac: string }>()
  for (const line of s.get('nics') ?? []) {
    const m = /^\/sys\/class\/net\/([^/]+)\/(speed|operstate|address):(.*)$/.exec(line)
    if (!m) continue
    const nic = nics.get(m[1]) ?? { name: m[1], state: 'unknown', speedMbps: null, mac: '' }
    const speed = Number.parseInt(m[3], 10)
    if (m[2] === 'speed') nic.speedMbps = speed > 0 ? speed : null // -1 or absent: virtual or link down
    else if (m[2] === 'operstate') nic.state = m[3]
    else nic.mac = m[3]
    nics.set(m[1], nic)
  }

  const nodeMs = Number.parseFloat(one('clock')) * 1000
  return {
    hostname: one('hostname'),
    os: (osRelease.get('PRETTY_NAME') ?? '').replace(/^"(.*)"$/, '$1'),
    kernel: one('kernel'),
    cpuModel: cpu.get('model name') ?? '',
    cpus: Number.parseInt(one('nproc'), 10) || 0,
    virtFlags: (cpu.get('flags') ?? '').split(/\s+/).filter((f) => f === 'vmx' || f === 'svm'),
    kvm: kvm.includes('writable') ? 'writable' : kvm.includes('present') ? 'present' : 'absent',
    memTotalBytes: kb(mem.get('MemTotal')),
    memAvailableBytes: kb(mem.get('MemAvailable')),
    disks: DISK_PATHS.flatMap((path) => {
      // df -P: header, then "fs 1024-blocks used available capacity mount"
      const f = (s.get(`df:${path}`)?.[1] ?? '').trim().split(/\s+/)
      return f.length >= 6 ? [{ path, sizeBytes: kb(f[1]), freeBytes: kb(f[3]) }] : []
    }),
    nics: [...nics.values()].filter((n) => n.name !== 'lo').sort((a, b) => a.name.localeCompare(b.name)),
    tools: Object.fromEntries(TOOLS.map((t) => [t, one(`tool:${t}`) || null])),
    clock: rt && Number.isFinite(nodeMs) ? clockOffset(nodeMs, rt) : null,
  }
}

/** The node read its clock between sending and receiving: assume the middle, bounded by half the round trip. */
function clockOffset(nodeMs: number, rt: RoundTrip): { offsetMs: number; uncertaintyMs: number } {
  const half = (rt.receivedMs - rt.sentMs) / 2
  return { offsetMs: round(nodeMs - (rt.sentMs + half)), uncertaintyMs: round(half) }
}

const round = (ms: number): number => Math.round(ms * 100) / 100
