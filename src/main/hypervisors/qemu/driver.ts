import { posix } from 'node:path'
import { randomBytes } from 'node:crypto'
import { strategyIds, strategyLabels, type MigrationParams, type StrategyId, type StrategySupport } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import * as remote from '../../remote/vm'
import type { HypervisorDriver, MigrateHooks, MigrationOutcome, VmInstance, VmSpec } from '../driver'
import { guestDefinition, type RunRequest } from '../guest-definition'
import { execOk, type NodeLink } from '../node-link'
import { NodeClocks, type NodeClock } from '../node-clock'
import { and, cmd } from '../../remote/command'
import type { TlsMaterial } from '../../security/migration-ca'
import { DEFAULT_RUN_DIR, nodeDir, qemuArgs, vmPaths, type VmPaths } from './command-line'
import { dsmRuntimeUnavailable } from './dsm-runtime'
import { runMigration } from './migrate'
import { QmpClient } from './qmp'

export interface QemuDriverOptions {
  /** Per-node folder for pid files, QMP sockets and serial logs. */
  runDir?: string
  /** 'auto' tries KVM on each node and falls back to TCG. */
  accel?: 'kvm' | 'tcg' | 'auto'
  /** Certificates for TLS migration streams (MigLab's own CA); without it `tls` runs are refused. */
  tls?: { material(nodeId: string, address: string): Promise<TlsMaterial> }
  /** Node clock offsets, shared with the runner (one measurement per node and minute). */
  clocks?: NodeClocks
  /** TEST ONLY: DSM over the network switches over without its final sync (the guest resumes on stale RAM). */
  testOnlySkipDsmFinalSync?: boolean
}

export interface Listed {
  spec: VmSpec
  pid: number
  alive: boolean
}

/** How long the coherence proof's writer holds its unsynced value for the other nodes to read. */
const COHERENCE_HOLD_S = 1

/** QEMU over QMP, reached only through NodeLinks. Keeps one QMP client per VM and node (QEMU serves one). */
export class QemuDriver implements HypervisorDriver {
  readonly kind = 'qemu'
  readonly runDir: string
  private readonly accelChoice: 'kvm' | 'tcg' | 'auto'
  private readonly clients = new Map<string, Promise<QmpClient>>()
  private readonly accelByNode = new Map<string, Promise<{ accel: 'kvm' | 'tcg'; reason?: string }>>()
  private readonly migrating = new Set<string>()
  private readonly clocks: NodeClocks
  private readonly tls: QemuDriverOptions['tls']
  readonly testOnlySkipDsmFinalSync: boolean

  constructor(options: QemuDriverOptions = {}) {
    this.runDir = options.runDir ?? DEFAULT_RUN_DIR
    this.accelChoice = options.accel ?? 'auto'
    this.tls = options.tls
    this.clocks = options.clocks ?? new NodeClocks()
    this.testOnlySkipDsmFinalSync = options.testOnlySkipDsmFinalSync ?? false
  }

  /**
   * Puts the node's TLS material in a private folder there, as QEMU's tls-creds-x509 wants it (one
   * certificate serves as server and client); returns the folder. Keys travel on stdin only.
   */
  async tlsDir(node: NodeLink): Promise<string> {
    if (!this.tls) throw new MigLabError('tls_unavailable', 'This MigLab has no certificate authority for migration streams.', { hint: 'Run the migration without TLS.' })
    const m = await this.tls.material(node.id, node.address)
    const dir = posix.join(nodeDir(this.runDir, node.name), 'tls')
    await execOk(node, and(remote.privateDir(this.runDir), cmd('mkdir', '-p', nodeDir(this.runDir, node.name)), remote.privateDir(dir)), 'Preparing the TLS folder', { timeoutMs: 15_000 })
    const files: [string, string][] = [['ca-cert.pem', m.caCert], ['server-cert.pem', m.cert], ['server-key.pem', m.key], ['client-cert.pem', m.cert], ['client-key.pem', m.key]]
    for (const [name, content] of files) await execOk(node, remote.writeFromStdin(posix.join(dir, name)), `Writing ${name}`, { timeoutMs: 15_000, stdin: content })
    return dir
  }

  paths(node: NodeLink, vm: string): VmPaths {
    return vmPaths(this.runDir, node.name, vm)
  }

  /** The VM's QMP client on that node, connecting once; a closed client is replaced on next use. */
  qmp(node: NodeLink, vm: string): Promise<QmpClient> {
    const key = `${node.id}\0${vm}`
    let client = this.clients.get(key)
    if (!client) {
      client = node.openUnixSocket(this.paths(node, vm).qmpSocket).then((s) => QmpClient.connect(s, `${vm} on ${node.name}`))
      this.clients.set(key, client)
      client.then(
        (c) => void c.closed.then(() => this.clients.get(key) === client && this.clients.delete(key)),
        () => this.clients.get(key) === client && this.clients.delete(key),
      )
    }
    return client
  }

  dropQmp(node: NodeLink, vm: string): void {
    const key = `${node.id}\0${vm}`
    const client = this.clients.get(key)
    this.clients.delete(key)
    client?.then((c) => c.close(), () => undefined)
  }

  private async listOn(node: NodeLink): Promise<Listed[]> {
    const out = await execOk(node, remote.listVmDirs(nodeDir(this.runDir, node.name)), 'Listing VMs', { timeoutMs: 15_000 })
    return out
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        const [alive, pid, json] = line.split('\t')
        try {
          return [{ alive: alive === '1', pid: Number(pid), spec: JSON.parse(json) as VmSpec }]
        } catch {
          return [] // a half-written vm.json from a start that failed
        }
      })
  }

  async instanceOn(node: NodeLink, vm: string): Promise<Listed | undefined> {
    return (await this.listOn(node)).find((l) => l.alive && l.spec.name === vm)
  }

  /** The nodes on which the VM's QEMU process is alive. */
  async whereRunning(vm: string, nodes: NodeLink[]): Promise<string[]> {
    const found = await Promise.all(nodes.map(async (n) => ((await this.instanceOn(n, vm)) ? [n.name] : [])))
    return found.flat()
  }

  async state(node: NodeLink, vm: string): Promise<string> {
    try {
      const s = await (await this.qmp(node, vm)).execute<{ status: string }>('query-status', undefined, 2000)
      return s.status
    } catch {
      return 'unknown'
    }
  }

  async listVms(nodes: NodeLink[]): Promise<VmInstance[]> {
    const perNode = await Promise.all(
      nodes.map(async (n) =>
        Promise.all((await this.listOn(n)).filter((l) => l.alive).map(async (l) => ({ spec: l.spec, node: n.name, pid: l.pid, state: await this.state(n, l.spec.name) }))),
      ),
    )
    return perNode.flat()
  }

  definition(base: VmSpec, run: RunRequest): VmSpec {
    if (run.params.sharedDiskDir) throw new MigLabError('invalid_argument', 'A guest disk on shared storage (params.sharedDiskDir) is for xl guests so far; the QEMU guest runs from its initramfs.')
    return guestDefinition(base, run)
  }

  async accelFor(node: NodeLink): Promise<{ accel: 'kvm' | 'tcg'; reason?: string }> {
    if (this.accelChoice !== 'auto') return { accel: this.accelChoice, reason: 'chosen in the driver options' }
    let probe = this.accelByNode.get(node.id)
    if (!probe) {
      probe = node.exec(remote.tryKvm(), { timeoutMs: 20_000 }).then((r) =>
        r.code === 0 ? { accel: 'kvm' as const } : { accel: 'tcg' as const, reason: (r.stderr.trim().split('\n').pop() || 'KVM did not start').slice(0, 300) },
      )
      this.accelByNode.set(node.id, probe)
    }
    return probe
  }

  /** Starts QEMU for `spec`; `incoming` waits for a migration stream instead of booting. */
  async launch(node: NodeLink, spec: VmSpec, incoming: boolean): Promise<VmPaths> {
    const paths = this.paths(node, spec.name)
    const accel = spec.accel === 'kvm' || spec.accel === 'tcg' ? spec.accel : (await this.accelFor(node)).accel
    const stored: VmSpec = { ...spec, accel }
    const args = qemuArgs({ spec: stored, node: node.name, paths, accel, incoming })
    this.dropQmp(node, spec.name)
    const ram = spec.sharedMemoryPath ?? spec.localMemoryPath
    const roots = [this.runDir, ...(ram ? [posix.dirname(ram)] : [])]
    await execOk(node, remote.startQemu(roots, paths.dir, paths.specFile, JSON.stringify(stored), args), `Starting QEMU for ${spec.name}`, { timeoutMs: 30_000 })
    return paths
  }

  async start(node: NodeLink, spec: VmSpec, opts: { signal?: AbortSignal; readyTimeoutMs?: number } = {}): Promise<VmInstance> {
    if (await this.instanceOn(node, spec.name)) {
      throw new MigLabError('vm_already_running', `VM "${spec.name}" already runs on node ${node.name}.`, { hint: 'Stop it first, or migrate it.' })
    }
    const paths = await this.launch(node, spec, false)
    if (spec.readyMarker) await this.waitReady(node, spec, paths, opts.readyTimeoutMs ?? 60_000, opts.signal)
    // The lab switch may still send the guest's MAC to the node it last ran on: a RARP from here fixes that.
    if (spec.nic) await this.announce(node, spec.name)
    const listed = await this.instanceOn(node, spec.name)
    if (!listed) throw new MigLabError('vm_start_failed', `QEMU for VM "${spec.name}" exited right after starting on node ${node.name}.`, { hint: `See ${paths.serialLog} on the node.` })
    return { spec: listed.spec, node: node.name, pid: listed.pid, state: await this.state(node, spec.name) }
  }

  /** QEMU's self-announce (RARP from the guest's MAC), as after an incoming migration; best effort. */
  private async announce(node: NodeLink, vm: string): Promise<void> {
    // One round, done 50 ms after boot: an announce still in flight when a migration starts must not
    // travel with it (a guest reset right after a migration under load was seen with three rounds).
    const q = await this.qmp(node, vm)
    await q.execute('announce-self', { initial: 50, max: 50, rounds: 1, step: 50 }).catch(() => undefined)
  }

  private async waitReady(node: NodeLink, spec: VmSpec, paths: VmPaths, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const r = await node.exec(remote.waitForText(paths.serialLog, spec.readyMarker!, paths.pidFile, timeoutMs), { timeoutMs: timeoutMs + 15_000, signal })
    if (r.code === 0) return
    if (signal?.aborted) throw new MigLabError('cancelled', `Booting VM "${spec.name}" was cancelled.`)
    const serial = await node.exec(remote.readFile(paths.serialLog), { timeoutMs: 10_000 }).catch(() => undefined)
    throw new MigLabError('vm_not_ready', `VM "${spec.name}" did not print "${spec.readyMarker}" on its console within ${timeoutMs} ms on node ${node.name}.`, {
      stderrTail: serial?.stdout.trimEnd().split('\n').slice(-15).join('\n'),
      hint: 'Check the guest kernel and initramfs; the console log tail is attached.',
    })
  }

  /**
   * Ends the VM's process on that node: QMP quit, then TERM, then KILL; leaves shared memory alone
   * (RAM in the node's own memory goes with it).
   * `known` is a listing the caller already has (null: known not to run), saving a round trip.
   */
  async terminate(node: NodeLink, vm: string, known?: Listed | null): Promise<void> {
    const listed = known === undefined ? await this.instanceOn(node, vm) : known
    if (listed) {
      await this.qmp(node, vm)
        .then((c) => c.execute('quit', undefined, 2000))
        .catch(() => undefined)
      if (!(await this.waitGone(node, listed.pid, 3000))) {
        await node.exec(remote.signalPid(listed.pid, 'TERM'))
        if (!(await this.waitGone(node, listed.pid, 2000))) {
          await node.exec(remote.signalPid(listed.pid, 'KILL'))
          if (!(await this.waitGone(node, listed.pid, 3000))) {
            throw new MigLabError('vm_stop_failed', `QEMU (pid ${listed.pid}) for "${vm}" on node ${node.name} survived SIGKILL.`)
          }
        }
      }
    }
    this.dropQmp(node, vm)
    // RAM in the node's own memory belongs to this copy (a DSM source left behind, a replica rolled back).
    const ram = listed?.spec.localMemoryPath ? [listed.spec.localMemoryPath] : []
    await execOk(node, remote.removePaths(this.paths(node, vm).dir, ...ram), 'Removing VM files', { timeoutMs: 10_000 })
  }

  async stop(node: NodeLink, vm: string): Promise<void> {
    const listed = (await this.listOn(node)).find((l) => l.spec.name === vm)
    await this.terminate(node, vm, listed?.alive ? listed : null)
    // The shared RAM file belongs to the VM, not to a node: remove it when the VM itself stops.
    if (listed?.spec.sharedMemoryPath) await execOk(node, remote.removePaths(listed.spec.sharedMemoryPath), 'Removing shared memory', { timeoutMs: 10_000 })
    // RAM in the node's own memory (the DSM runtime's source or replica) goes with the copy on that node.
    if (listed?.spec.localMemoryPath) await execOk(node, remote.removePaths(listed.spec.localMemoryPath), 'Removing guest RAM', { timeoutMs: 10_000 })
  }

  private async waitGone(node: NodeLink, pid: number, ms: number): Promise<boolean> {
    return (await node.exec(remote.waitGone(pid, ms), { timeoutMs: ms + 15_000 })).code === 0
  }

  /** The node's clock against this machine's (cached for a minute). */
  clock(node: NodeLink): Promise<NodeClock> {
    return this.clocks.of(node)
  }

  async capabilities(nodes: NodeLink[], params: MigrationParams): Promise<StrategySupport[]> {
    const missing: string[] = []
    await Promise.all(nodes.map(async (n) => ((await n.exec(remote.qemuVersion(), { timeoutMs: 15_000 })).code === 0 ? undefined : missing.push(n.name))))
    const ready = missing.length === 0 && nodes.length >= 2
    const [shared, noRuntime] = ready
      ? await Promise.all([
          this.sharedMemoryCheck(nodes, params.sharedMemoryDir),
          dsmRuntimeUnavailable(nodes, params.nodeMemoryDir ?? '/dev/shm', (dir) => this.sharedMemoryCheck(nodes, dir)),
        ])
      : [undefined, undefined]
    return strategyIds.map((id: StrategyId): StrategySupport => {
      const base = { id, label: strategyLabels[id] }
      if (missing.length) return { ...base, supported: false, reason: `QEMU (${remote.QEMU}) is not installed on ${missing.join(', ')}.` }
      if (nodes.length < 2) return { ...base, supported: false, reason: 'Migration needs at least two nodes.' }
      if (id === 'dsm' && shared) return { ...base, supported: false, reason: shared }
      if (id === 'dsm-runtime' && noRuntime) return { ...base, supported: false, reason: noRuntime }
      return { ...base, supported: true }
    })
  }

  /**
   * Why shared-memory migration cannot work between these nodes, or undefined when their folder is
   * coherent memory: a value written on the first node, through a descriptor held open and never
   * synced, must be readable on every other node while the writer still holds it. A path that merely
   * exists on both (each node's own tmpfs) or a non-coherent file system (NFS) fails, with the reason.
   */
  private async sharedMemoryCheck(nodes: NodeLink[], dir: string | undefined): Promise<string | undefined> {
    if (!dir) return 'No shared memory folder is configured (a coherent shared mount on real nodes; the demo lab has its own).'
    const [first, ...rest] = nodes
    const path = `${dir.replace(/\/+$/, '')}/.miglab-coherence-${randomBytes(6).toString('hex')}`
    const value = randomBytes(16).toString('hex')
    const writer = first.exec(remote.coherenceWrite(path, value, COHERENCE_HOLD_S), { timeoutMs: 15_000 })
    const unseen: string[] = []
    for (const n of rest) {
      if ((await n.exec(remote.coherenceRead(path, value, COHERENCE_HOLD_S * 800), { timeoutMs: 15_000 })).code !== 0) unseen.push(n.name)
    }
    const wrote = await writer
    if (wrote.code !== 0) return `Cannot write to ${dir} on ${first.name}${wrote.stderr.trim() ? `: ${wrote.stderr.trim().split('\n').pop()}` : ''}.`
    if (unseen.length) {
      return `${unseen.join(', ')} do${unseen.length === 1 ? 'es' : ''} not see what ${first.name} writes in ${dir}: not coherent shared memory (each node's own folder, or a network file system that keeps unsynced writes on the writer's side).`
    }
    return undefined
  }

  async environment(node: NodeLink): Promise<Record<string, unknown>> {
    const [version, facts, accel] = await Promise.all([
      node.exec(remote.qemuVersion(), { timeoutMs: 15_000 }),
      node.exec(remote.hostFacts(), { timeoutMs: 15_000 }),
      this.accelFor(node),
    ])
    const host = Object.fromEntries(
      facts.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    return { qemu: version.stdout.split('\n')[0]?.trim(), accel: accel.accel, accelReason: accel.reason, ...host }
  }

  async migrate(vm: string, from: NodeLink, to: NodeLink, strategy: StrategyId, params: MigrationParams, hooks: MigrateHooks): Promise<MigrationOutcome> {
    if (this.migrating.has(vm)) throw new MigLabError('migration_in_progress', `VM "${vm}" is already being migrated.`, { hint: 'Wait for that migration to end.' })
    this.migrating.add(vm)
    try {
      return await runMigration(this, vm, from, to, strategy, params, hooks)
    } finally {
      this.migrating.delete(vm)
    }
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()]
    this.clients.clear()
    await Promise.all(all.map((c) => c.then((q) => q.close(), () => undefined)))
  }
}
