import { dirname } from 'node:path/posix'
import { strategyIds, strategyLabels, type MigrationParams, type StrategyId, type StrategySupport } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import * as vmCmd from '../../remote/vm'
import * as xl from '../../remote/xl'
import type { HypervisorDriver, MigrateHooks, MigrationOutcome, VmInstance, VmSpec } from '../driver'
import { guestDefinition, type RunRequest } from '../guest-definition'
import { execOk, type NodeLink } from '../node-link'
import { checkDomainName, configPath, DISK_MIB, diskPath, domainConfig, specPath, XL_BRIDGE } from './domain-config'
import { runXlMigration } from './migrate'
import { baseName, parseXlInfo, parseXlList, type XlDomain } from './xl-parse'

/** Why each strategy other than pre-copy cannot run with xl. */
const UNSUPPORTED: Record<Exclude<StrategyId, 'precopy'>, string> = {
  postcopy: '`xl migrate` is pre-copy only (libxl has no post-copy).',
  dsm: 'Needs the thesis\'s DSM memory layer; a Xen domain\'s RAM cannot live in a shared file.',
  'dsm-runtime': "MigLab's DSM runtime replicates a QEMU guest's RAM file; a Xen domain's memory is not one.",
  xbzrle: 'XBZRLE delta compression is a QEMU migration feature; libxl does not have it.',
  multifd: 'Multi-channel (multifd) migration is a QEMU feature; libxl sends one stream.',
  'auto-converge': 'Auto-converge (vCPU throttling) is a QEMU feature; libxl does not have it.',
}

const BOOT_TIMEOUT_MS = 120_000
const XL_TIMEOUT_MS = 60_000

/** A domain as MigLab lists it: the definition it stored on that dom0 when it has one, else what xl says. */
function instanceOf(d: XlDomain, node: NodeLink, specs: Map<string, VmSpec>): VmInstance {
  const { vm, role } = baseName(d.name)
  const state = role === 'incoming' ? 'inmigrate' : role === 'migratedaway' ? 'postmigrate' : d.state
  return { spec: specs.get(vm) ?? { name: vm, memoryMiB: d.memoryMiB }, node: node.name, state, pid: 0 } // a domain is no dom0 process
}

/**
 * Xen Project through the `xl` toolstack on each host's dom0, over the node's link. MigLab writes
 * each domain's config (a PV guest from its kernel and initramfs) and keeps its definition beside it.
 */
export class XlDriver implements HypervisorDriver {
  readonly kind = 'xl'
  /** In this process, one migration per VM and node pair at a time (node ids, never names). */
  private readonly migrating = new Set<string>()

  async domains(node: NodeLink): Promise<XlDomain[]> {
    return parseXlList(await execOk(node, xl.xlList(), 'Listing Xen domains', { timeoutMs: XL_TIMEOUT_MS }))
  }

  private async specs(node: NodeLink): Promise<Map<string, VmSpec>> {
    const out = await execOk(node, xl.readSpecs(), 'Reading MigLab VM definitions', { timeoutMs: XL_TIMEOUT_MS })
    const specs = new Map<string, VmSpec>()
    for (const line of out.split('\n').filter(Boolean)) {
      try {
        const spec = JSON.parse(line) as VmSpec
        specs.set(spec.name, spec)
      } catch {
        // a definition cut short by a crash: the domain is still listed, from xl's figures
      }
    }
    return specs
  }

  async listVms(nodes: NodeLink[]): Promise<VmInstance[]> {
    const perNode = await Promise.all(
      nodes.map(async (n) => {
        const [domains, specs] = await Promise.all([this.domains(n), this.specs(n)])
        return domains.map((d) => instanceOf(d, n, specs))
      }),
    )
    return perNode.flat()
  }

  /**
   * The run's workload on the guest's kernel command line (its init reads it), as for QEMU; RAM
   * layouts xl cannot do are refused. With a shared disk folder the guest gets its disk there.
   */
  definition(base: VmSpec, run: RunRequest): VmSpec {
    if (run.strategy !== 'precopy') throw new MigLabError('strategy_unsupported', `Strategy ${run.strategy} cannot run with xl: ${UNSUPPORTED[run.strategy]}`, { strategy: run.strategy })
    const spec = guestDefinition(base, run)
    delete spec.disk
    if (run.params.sharedDiskDir) spec.disk = diskPath(run.params.sharedDiskDir, base.name)
    return spec
  }

  async start(node: NodeLink, spec: VmSpec, opts: { signal?: AbortSignal; readyTimeoutMs?: number } = {}): Promise<VmInstance> {
    const name = checkDomainName(spec.name)
    const present = (await this.domains(node)).find((d) => baseName(d.name).vm === name)
    if (present) throw new MigLabError('vm_already_running', `VM "${name}" already exists on ${node.name} (${present.state}).`, { hint: 'Stop it first, or migrate it.' })
    const config = domainConfig(spec, spec.nic?.taps[node.name] ?? XL_BRIDGE)
    if (spec.disk) await execOk(node, xl.ensureDiskFile(dirname(dirname(spec.disk)), spec.disk, DISK_MIB), `Preparing the disk of "${name}"`, { timeoutMs: XL_TIMEOUT_MS, signal: opts.signal })
    await execOk(node, xl.xlCreate(name, configPath(name), specPath(name), JSON.stringify(spec)), `Creating Xen domain "${name}"`, { stdin: config, timeoutMs: XL_TIMEOUT_MS, signal: opts.signal })
    if (spec.readyMarker) {
      const timeoutMs = opts.readyTimeoutMs ?? BOOT_TIMEOUT_MS
      const r = await node.exec(xl.waitForConsole(name, spec.readyMarker, timeoutMs), { timeoutMs: timeoutMs + 15_000, signal: opts.signal })
      if (r.code !== 0) {
        const console = (await node.exec(xl.readConsole(name), { timeoutMs: 10_000 })).stdout
        await this.stop(node, name).catch(() => undefined)
        throw new MigLabError('vm_boot_failed', `VM "${name}" did not print ${spec.readyMarker} on ${node.name} (${r.code === 3 ? 'the domain died' : `not within ${timeoutMs / 1000} s`}).`, {
          stderrTail: console.trimEnd().split('\n').slice(-15).join('\n'),
          hint: `Its console log is ${xl.consoleLog(name)} on ${node.name}.`,
        })
      }
    }
    return { spec, node: node.name, state: 'running', pid: 0 }
  }

  /** Destroys the domain (and a half-migrated copy of it) on that node and removes MigLab's files for it. */
  async stop(node: NodeLink, vm: string): Promise<void> {
    const name = checkDomainName(vm)
    for (const d of (await this.domains(node)).filter((d) => baseName(d.name).vm === name)) {
      await execOk(node, xl.xlDestroy(d.name), `Destroying Xen domain "${d.name}"`, { timeoutMs: XL_TIMEOUT_MS })
    }
    await execOk(node, xl.removeFiles(configPath(name), specPath(name)), 'Removing the VM definition', { timeoutMs: XL_TIMEOUT_MS })
  }

  async capabilities(nodes: NodeLink[], _params: MigrationParams): Promise<StrategySupport[]> {
    const missing: string[] = []
    await Promise.all(nodes.map(async (n) => ((await n.exec(xl.xlInfo(), { timeoutMs: XL_TIMEOUT_MS }).catch(() => ({ code: 1 }))).code === 0 ? undefined : missing.push(n.name))))
    return strategyIds.map((id): StrategySupport => {
      const base = { id, label: strategyLabels[id] }
      if (missing.length) return { ...base, supported: false, reason: `xl does not answer on ${missing.join(', ')} (not a Xen dom0, or not root?).` }
      if (nodes.length < 2) return { ...base, supported: false, reason: 'Migration needs at least two nodes.' }
      return id === 'precopy' ? { ...base, supported: true } : { ...base, supported: false, reason: UNSUPPORTED[id] }
    })
  }

  async environment(node: NodeLink): Promise<Record<string, unknown>> {
    const [info, facts] = await Promise.all([execOk(node, xl.xlInfo(), 'xl info', { timeoutMs: XL_TIMEOUT_MS }), execOk(node, vmCmd.hostFacts(), 'Reading host facts', { timeoutMs: XL_TIMEOUT_MS })])
    const i = parseXlInfo(info)
    const f = Object.fromEntries(facts.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    return {
      hypervisor: 'xl',
      xen: i.xen_version,
      xenCommandLine: i.xen_commandline,
      xenCaps: i.xen_caps,
      pcpus: i.nr_cpus ? Number(i.nr_cpus) : undefined,
      totalMemoryMiB: i.total_memory ? Number(i.total_memory) : undefined,
      dom0Kernel: f.kernel,
      hostname: f.hostname,
      cpu: f.cpu,
    }
  }

  async migrate(vm: string, from: NodeLink, to: NodeLink, strategy: StrategyId, _params: MigrationParams, hooks: MigrateHooks): Promise<MigrationOutcome> {
    if (strategy !== 'precopy') throw new MigLabError('strategy_unsupported', `Strategy ${strategy} cannot run with xl: ${UNSUPPORTED[strategy]}`, { strategy })
    const key = `${[from.id, to.id].sort().join('+')}/${checkDomainName(vm)}`
    if (this.migrating.has(key)) throw new MigLabError('migration_in_progress', `VM "${vm}" is already being migrated.`, { hint: 'Wait for that migration to end.' })
    this.migrating.add(key)
    try {
      return await runXlMigration(this, vm, from, to, hooks)
    } finally {
      this.migrating.delete(key)
    }
  }

  async close(): Promise<void> {}
}
