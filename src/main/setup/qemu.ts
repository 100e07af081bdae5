import { commandExists, kvmProbe, migrationListener, QEMU, qmpProbe, tcpConnect } from '../remote/setup'
import { pollUntil } from '../util/poll'
import type { Finding, NodeRef, Step, StepContext, Wizard } from './engine'
import { packagesStep } from './packages'

/** The range MigLab's QEMU migrations pick their incoming port from (hypervisors/qemu/migrate.ts). */
export const MIGRATION_PORTS = { first: 49152, count: 12000 }

const QMP_SESSION = '{"execute":"qmp_capabilities"}\n{"execute":"query-version"}\n{"execute":"quit"}\n'

const qemuMissing = (node: NodeRef): Finding => ({ kind: 'not_checkable', reason: `${QEMU} is not installed on ${node.name} yet (the packages step installs it)` })

async function hasQemu(ctx: StepContext, node: NodeRef): Promise<boolean> {
  return (await ctx.exec.run(node, commandExists(QEMU), { timeoutMs: 10_000 })).code === 0
}

/** `query-version`'s answer in a QMP transcript: `{"return": {"qemu": {"major": 7, …}, "package": "…"}}`. */
export function parseQmpVersion(stdout: string): { greeting: boolean; version?: string; package?: string } {
  let greeting = false
  let version: string | undefined
  let pkg: string | undefined
  for (const line of stdout.split('\n')) {
    let msg: unknown
    try {
      msg = JSON.parse(line)
    } catch {
      continue
    }
    const m = msg as { QMP?: unknown; return?: { qemu?: { major: number; minor: number; micro: number }; package?: string } }
    if (m.QMP) greeting = true
    if (m.return?.qemu) {
      version = `${m.return.qemu.major}.${m.return.qemu.minor}.${m.return.qemu.micro}`
      pkg = m.return.package?.trim() || undefined
    }
  }
  return { greeting, ...(version ? { version } : {}), ...(pkg ? { package: pkg } : {}) }
}

const packages = packagesStep('packages', 'QEMU packages', { apt: ['qemu-system-x86'], dnf: ['qemu-kvm'] })

const accel: Step = {
  id: 'accel',
  title: 'KVM or TCG',
  scope: 'node',
  async check(ctx, t) {
    const node = t.node!
    if (!(await hasQemu(ctx, node))) return qemuMissing(node)
    const r = await ctx.exec.run(node, kvmProbe(10), { stdin: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', timeoutMs: 20_000 })
    if (r.code === 0) return { kind: 'ok', found: 'KVM usable: guests run at native CPU speed', facts: { accel: 'kvm' } }
    const why = r.stdout.includes('kvm-unusable') ? '/dev/kvm is missing or not writable' : (r.stderr.trim().split('\n').pop() ?? 'QEMU refused -accel kvm').slice(0, 200)
    return {
      kind: 'ok',
      found: `TCG fallback (${why}): guests run emulated, roughly 5–20× slower CPU, and migration downtime scatters widely (1–140 ms for identical runs), so comparisons need more repetitions`,
      facts: { accel: 'tcg', reason: why },
    }
  },
}

const qmp: Step = {
  id: 'qmp',
  title: 'QMP answering, versions recorded',
  scope: 'node',
  async check(ctx, t) {
    const node = t.node!
    const r = await ctx.exec.run(node, qmpProbe(10), { stdin: QMP_SESSION, timeoutMs: 20_000 })
    if (r.code === 127 || /not found/.test(r.stderr)) return qemuMissing(node)
    const v = parseQmpVersion(r.stdout)
    if (!v.greeting || !v.version) {
      return { kind: 'not_checkable', reason: `QEMU on ${node.name} did not answer QMP (exit ${r.code}): ${r.stderr.trim().slice(-300) || 'no greeting'}` }
    }
    return { kind: 'ok', found: `QMP answers; QEMU ${v.version}${v.package ? ` (${v.package})` : ''}`, facts: { qemu: v.version, ...(v.package ? { package: v.package } : {}) } }
  },
}

/**
 * A QEMU listening with `-incoming` on one node, a TCP connection from the other: the path a
 * migration stream takes, including firewalls in between. Every node is tried as destination.
 */
const migrationPort: Step = {
  id: 'migration-port',
  title: 'Migration port reachable between nodes',
  scope: 'lab',
  async check(ctx, t) {
    if (t.nodes.length < 2) return { kind: 'not_checkable', reason: 'the lab has one node; a migration needs two' }
    const port = MIGRATION_PORTS.first + Math.floor(Math.random() * MIGRATION_PORTS.count)
    const seen: string[] = []
    for (const [i, dst] of t.nodes.entries()) {
      const src = t.nodes[(i + 1) % t.nodes.length]
      const listening = ctx.exec.run(dst, migrationListener(port, 20), { timeoutMs: 30_000 })
      const connected = await pollUntil(async () => ((await ctx.exec.run(src, tcpConnect(dst.host, port, 3), { timeoutMs: 10_000 })).code === 0 ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 300,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
      const l = await listening
      if (l.code === 127 || /not found/.test(l.stderr)) return qemuMissing(dst)
      if (!connected) {
        return {
          kind: 'change',
          found: `${src.name} cannot reach ${dst.name} (${dst.host}) on TCP port ${port}${l.stderr.trim() ? `; the listener said: ${l.stderr.trim().slice(-200)}` : ''}`,
          change: `open TCP ports ${MIGRATION_PORTS.first}–${MIGRATION_PORTS.first + MIGRATION_PORTS.count - 1} from ${src.name} to ${dst.name} (firewall / routing)`,
        }
      }
      seen.push(`${src.name} → ${dst.name}:${port}`)
    }
    return { kind: 'ok', found: `QEMU accepted a connection on its migration port: ${seen.join(', ')}` }
  },
}

export const qemuWizard: Wizard = {
  id: 'qemu',
  title: 'QEMU/KVM hypervisor',
  about: 'QEMU on every node, KVM or TCG (and what TCG costs), QMP answering with versions recorded, the migration port reachable between nodes.',
  steps: [packages, accel, qmp, migrationPort],
}
