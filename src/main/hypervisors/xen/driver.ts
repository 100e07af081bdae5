import { strategyIds, strategyLabels, type MigrationNetwork, type MigrationParams, type StrategyId, type StrategySupport } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import * as xe from '../../remote/xe'
import type { RunRequest } from '../guest-definition'
import type { HypervisorDriver, MigrateHooks, MigrationOutcome, VmInstance, VmSpec } from '../driver'
import { execOk, type NodeLink } from '../node-link'
import { runXenMigration } from './migrate'
import { parseMap, parseMinimal, parseRecords } from './xe-parse'

/** Why each strategy other than pre-copy cannot run on stock XenServer. */
const UNSUPPORTED: Record<Exclude<StrategyId, 'precopy'>, string> = {
  postcopy: "XenServer's live migration is pre-copy only.",
  dsm: "Needs the thesis's DSM memory layer, which stock XenServer does not have.",
  'dsm-runtime': "MigLab's DSM runtime replicates a QEMU guest's RAM file; XenServer guests have none.",
  xbzrle: 'XBZRLE delta compression is a QEMU migration feature that xe does not expose.',
  multifd: 'Multi-channel (multifd) migration is a QEMU feature that xe does not expose.',
  'auto-converge': 'Auto-converge (vCPU throttling) is a QEMU feature that xe does not expose.',
}

const VM_FIELDS = ['uuid', 'name-label', 'power-state', 'memory-static-max']

/** VM.pool_migrate honours its `network` option from xapi 1.297 on (commit 56d676af43); older ones ignore it. */
const NETWORK_OPTION_SINCE = [1, 297]

/** xapi_build of software-version: `1.249.32`, or date-like `25.6.0` in newer releases; undefined when absent. */
const xapiAtLeast = (build: string | undefined, [major, minor]: number[]): boolean | undefined => {
  const m = /^(\d+)\.(\d+)/.exec(build ?? '')
  return m ? Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor) : undefined
}

const toNetwork = (r: Record<string, string>): MigrationNetwork => ({ uuid: r.uuid, name: r['name-label'] ?? '', bridge: r.bridge ?? '' })

/** xe reports `Running`, `Halted`, `Paused`, `Suspended`; MigLab's states are lower case like QEMU's. */
const stateOf = (powerState: string | undefined): string => powerState?.trim().toLowerCase() || 'unknown'

/**
 * XenServer / XCP-ng through `xe` on each host's dom0, over the node's link. VMs are pool objects
 * addressed by name-label: the VmSpec only names them (xe owns memory, disks and NICs).
 */
export class XenDriver implements HypervisorDriver {
  readonly kind = 'xen'
  private readonly hosts = new Map<string, Promise<string>>()
  private readonly migrating = new Set<string>()

  /** The xapi host uuid of a node: the pool host whose address, hostname or name is the node's. */
  hostUuid(node: NodeLink): Promise<string> {
    let found = this.hosts.get(node.id)
    if (!found) {
      found = execOk(node, xe.hostList(['uuid', 'name-label', 'hostname', 'address']), 'Listing XenServer hosts', { timeoutMs: 20_000 }).then((out) => {
        const hosts = parseRecords(out)
        const match =
          hosts.find((h) => h.address === node.address || h.hostname === node.address) ??
          hosts.find((h) => h['name-label'] === node.name || h.hostname === node.name)
        if (!match?.uuid) {
          throw new MigLabError('host_not_found', `No host of the XenServer pool matches node ${node.name} (${node.address}).`, {
            hint: "Give the node the host's management address, or name it like the host's name-label.",
            hosts: hosts.map((h) => ({ uuid: h.uuid, name: h['name-label'], address: h.address })),
          })
        }
        return match.uuid
      })
      this.hosts.set(node.id, found)
      found.catch(() => this.hosts.delete(node.id))
    }
    return found
  }

  /** The pool's one VM with that name-label; xe allows duplicates, MigLab refuses them. */
  async vmUuid(node: NodeLink, vm: string): Promise<string | undefined> {
    const found = parseMinimal(await execOk(node, xe.vmUuidsByName(vm), `Looking up VM "${vm}"`, { timeoutMs: 20_000 }))
    if (found.length > 1) throw new MigLabError('vm_ambiguous', `The XenServer pool has ${found.length} VMs called "${vm}".`, { hint: 'Rename all but one.', uuids: found })
    return found[0]
  }

  /** Where the VM runs now: its resident-on host uuid and power state. */
  async placement(node: NodeLink, vmUuid: string): Promise<{ residentOn: string; state: string }> {
    const [r] = parseRecords(await execOk(node, xe.vmRecord(vmUuid, ['resident-on', 'power-state']), 'Reading the VM', { timeoutMs: 20_000 }))
    return { residentOn: r?.['resident-on'] ?? '', state: stateOf(r?.['power-state']) }
  }

  async listVms(nodes: NodeLink[]): Promise<VmInstance[]> {
    const perNode = await Promise.all(
      nodes.map(async (n) => {
        const out = await execOk(n, xe.vmsOnHost(await this.hostUuid(n), VM_FIELDS), 'Listing VMs', { timeoutMs: 20_000 })
        return parseRecords(out).map(
          (r): VmInstance => ({
            spec: { name: r['name-label'], memoryMiB: Math.round(Number(r['memory-static-max']) / 2 ** 20) || 0 },
            node: n.name,
            state: stateOf(r['power-state']),
            pid: 0, // a Xen domain is no process on the node
          }),
        )
      }),
    )
    return perNode.flat()
  }

  /** xapi boots the pool's own VM: MigLab cannot put a workload or a RAM layout into it. */
  definition(base: VmSpec, run: RunRequest): VmSpec {
    if (run.params.sharedDiskDir) throw new MigLabError('invalid_argument', "A XenServer VM keeps its own disks in the pool's storage: MigLab cannot give it one (params.sharedDiskDir).")
    if (run.workload.kind !== 'idle' && run.workload.kind !== 'echo') {
      throw new MigLabError('workload_unsupported', `A XenServer VM runs its own software: MigLab cannot start the "${run.workload.kind}" workload in it.`, {
        hint: 'Start the workload inside the guest yourself and choose the idle workload.',
      })
    }
    return base
  }

  async start(node: NodeLink, spec: VmSpec, opts: { signal?: AbortSignal } = {}): Promise<VmInstance> {
    const uuid = await this.vmUuid(node, spec.name)
    if (!uuid) throw new MigLabError('vm_not_found', `The XenServer pool has no VM called "${spec.name}".`, { hint: 'Create it in XenCenter / Xen Orchestra or with xe vm-install first.' })
    const before = await this.placement(node, uuid)
    if (before.state !== 'halted') throw new MigLabError('vm_already_running', `VM "${spec.name}" is ${before.state}, not halted.`, { hint: 'Stop it first, or migrate it.' })
    await execOk(node, xe.vmStart(uuid, await this.hostUuid(node)), `Starting VM "${spec.name}"`, { timeoutMs: 180_000, signal: opts.signal })
    const after = await this.placement(node, uuid)
    return { spec, node: node.name, state: after.state, pid: 0 }
  }

  async stop(node: NodeLink, vm: string): Promise<void> {
    const uuid = await this.vmUuid(node, vm)
    if (!uuid) return
    const where = await this.placement(node, uuid)
    if (where.state === 'halted' || where.residentOn !== (await this.hostUuid(node))) return
    // Clean shutdown needs guest cooperation (PV tools); a guest without them is forced off.
    const clean = await node.exec(xe.vmShutdown(uuid, false), { timeoutMs: 120_000 })
    if (clean.code !== 0) await execOk(node, xe.vmShutdown(uuid, true), `Forcing VM "${vm}" off`, { timeoutMs: 120_000 })
  }

  /** The pool's networks (one pool: any host answers for all), for the migration network choice. */
  async migrationNetworks(nodes: NodeLink[]): Promise<MigrationNetwork[]> {
    if (!nodes[0]) return []
    return parseRecords(await execOk(nodes[0], xe.networkList(), 'Listing XenServer networks', { timeoutMs: 20_000 })).map(toNetwork)
  }

  /** The node among `nodes` that is the pool master (asked through `via`). */
  async poolMaster(via: NodeLink, nodes: NodeLink[]): Promise<NodeLink> {
    const [master] = parseMinimal(await execOk(via, xe.poolMaster(), 'Finding the pool master', { timeoutMs: 20_000 }))
    for (const n of nodes) if ((await this.hostUuid(n)) === master) return n
    throw new MigLabError('xen_master_not_in_lab', `A migration over a chosen network is started on the pool master (host ${master || 'unknown'}), which is neither ${nodes.map((n) => n.name).join(' nor ')}.`, {
      hint: 'Migrate between the pool master and another host, or leave the migration network empty.',
    })
  }

  /** Refuses a migration network the pool does not have, or an xapi that would silently ignore it. */
  async checkMigrationNetwork(node: NodeLink, network: string): Promise<void> {
    const [found] = parseRecords(await execOk(node, xe.networkRecord(network), 'Looking up the migration network', { timeoutMs: 20_000 }))
    if (!found) {
      const known = await this.migrationNetworks([node])
      throw new MigLabError('xen_network_unknown', `The XenServer pool has no network with uuid ${network}, so the migration cannot use it.`, {
        hint: `Choose one of the pool's networks (xe network-list): ${known.map((n) => `${n.name} (${n.uuid})`).join(', ') || 'none listed'}; or leave the migration network empty for the management network.`,
        networks: known,
      })
    }
    const build = parseMap((await execOk(node, xe.hostParamGet(await this.hostUuid(node), 'software-version'), 'Reading the xapi version', { timeoutMs: 20_000 })).trim()).xapi_build
    if (!xapiAtLeast(build, NETWORK_OPTION_SINCE)) {
      throw new MigLabError('xen_network_choice_unsupported', `The host's xapi (${build ?? 'version unknown'}) cannot migrate over a chosen network: VM.pool_migrate's network option came with xapi ${NETWORK_OPTION_SINCE.join('.')}, and an older xapi would silently use the management network.`, {
        hint: `Update the pool's xapi to ${NETWORK_OPTION_SINCE.join('.')} or later (xe host-param-get … param-name=software-version shows xapi_build), or leave the migration network empty.`,
      })
    }
  }

  async capabilities(nodes: NodeLink[], _params: MigrationParams): Promise<StrategySupport[]> {
    const missing: string[] = []
    await Promise.all(nodes.map(async (n) => ((await n.exec(xe.hostList(['uuid']), { timeoutMs: 20_000 })).code === 0 ? undefined : missing.push(n.name))))
    return strategyIds.map((id): StrategySupport => {
      const base = { id, label: strategyLabels[id] }
      if (missing.length) return { ...base, supported: false, reason: `xe does not answer on ${missing.join(', ')} (not a XenServer / XCP-ng dom0?).` }
      if (nodes.length < 2) return { ...base, supported: false, reason: 'Migration needs at least two nodes.' }
      return id === 'precopy' ? { ...base, supported: true } : { ...base, supported: false, reason: UNSUPPORTED[id] }
    })
  }

  async environment(node: NodeLink): Promise<Record<string, unknown>> {
    const host = await this.hostUuid(node)
    const get = async (param: string) => (await node.exec(xe.hostParamGet(host, param), { timeoutMs: 20_000 })).stdout.trim()
    const [software, name, cpu] = await Promise.all([get('software-version'), get('name-label'), get('cpu_info')])
    const sw = parseMap(software)
    const cpuInfo = parseMap(cpu)
    return {
      hypervisor: 'xen',
      product: [sw.product_brand, sw.product_version].filter(Boolean).join(' ') || undefined,
      xapi: sw.xapi,
      xen: sw.xen,
      softwareVersion: sw,
      hostUuid: host,
      hostname: name,
      cpu: cpuInfo.modelname,
      cpus: cpuInfo.cpu_count ? Number(cpuInfo.cpu_count) : undefined,
    }
  }

  async migrate(vm: string, from: NodeLink, to: NodeLink, strategy: StrategyId, params: MigrationParams, hooks: MigrateHooks): Promise<MigrationOutcome> {
    if (strategy !== 'precopy') throw new MigLabError('strategy_unsupported', `Strategy ${strategy} cannot run on XenServer: ${UNSUPPORTED[strategy]}`, { strategy })
    if (this.migrating.has(vm)) throw new MigLabError('migration_in_progress', `VM "${vm}" is already being migrated.`, { hint: 'Wait for that migration to end.' })
    this.migrating.add(vm)
    try {
      return await runXenMigration(this, vm, from, to, params, hooks)
    } finally {
      this.migrating.delete(vm)
    }
  }

  async close(): Promise<void> {
    this.hosts.clear()
  }
}
