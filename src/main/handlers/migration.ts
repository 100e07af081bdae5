import type { ParsedInput } from '../../shared/api'
import { migrationParams, type MigrationParams, type MigrationResults } from '../../shared/contract/migration'
import type { HypervisorKind, Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { HypervisorDriver } from '../hypervisors/driver'
import type { NodeLink } from '../hypervisors/node-link'
import { QemuDriver } from '../hypervisors/qemu/driver'
import { SshNodeLink } from '../hypervisors/ssh-node-link'
import { XenDriver } from '../hypervisors/xen/driver'
import { DemoLab } from '../lab/demo-lab'
import { ensureGuestImage } from '../lab/guest-image'
import { compareRuns } from '../migration/compare'
import { DEMO_VM, demoVmSpec } from '../migration/demo-vm'
import { runExperiment } from '../migration/runner'
import type { Services } from '../services'
import { nodeKey } from '../ssh/targets'
import { runDetail, runSummaries } from '../store/run-detail'
import { RunWriter } from '../store/run-writer'

type MigrationHandlers = { [M in keyof MigrationResults]: (input: ParsedInput<M>) => Promise<MigrationResults[M]> }

/** Demo-lab nodes share this machine's /dev/shm: DSM works there without a cluster file system. */
export const withLabDefaults = (lab: Lab, params: MigrationParams): MigrationParams =>
  lab.kind === 'demo' && !params.sharedMemoryDir ? { ...params, sharedMemoryDir: '/dev/shm' } : params

/** Each lab chooses its hypervisor; the runner only ever sees the driver interface. */
export function migrationHandlers(s: Services, drivers: Record<HypervisorKind, HypervisorDriver> = { qemu: new QemuDriver(), xen: new XenDriver() }): MigrationHandlers {
  const driverFor = (l: Lab): HypervisorDriver => drivers[l.hypervisor]
  const lab = (id: number): Lab => {
    const found = s.labs.get(id)
    if (!found) throw new MigLabError('lab_not_found', `No lab with id ${id}.`, { hint: 'Reload the Labs page.' })
    return found
  }
  const links = (l: Lab): NodeLink[] => l.nodes.map((n) => new SshNodeLink(s.ssh, nodeKey(n.id), n.name, n.host))
  const node = (all: NodeLink[], name: string): NodeLink => {
    const found = all.find((n) => n.name === name)
    if (!found) {
      throw new MigLabError('node_not_found', `The lab has no node ${JSON.stringify(name)}.`, {
        nodes: all.map((n) => n.name),
        hint: all.length ? `Choose one of its nodes: ${all.map((n) => n.name).join(', ')}.` : 'Add the lab\'s nodes first.',
      })
    }
    return found
  }
  const writer = new RunWriter(s.db)
  // The demo lab's guest needs no setup: its definition comes from the lab's plan and cached image.
  const demoGuest = async () => {
    const demo = new DemoLab({ dataDir: s.dataDir, labs: s.labs, hostKeys: s.hostKeys, prefix: process.env.MIGLAB_DEMO_PREFIX || undefined })
    return demoVmSpec(demo.plan(), await ensureGuestImage(demo.paths.cacheDir, () => undefined))
  }

  return {
    'vms.list': async ({ labId }) => {
      const l = lab(labId)
      return (await driverFor(l).listVms(links(l))).map((v) => ({ name: v.spec.name, node: v.node, state: v.state, memoryMiB: v.spec.memoryMiB, sharedMemory: !!v.spec.sharedMemoryPath }))
    },

    'migration.capabilities': async ({ labId }) => {
      const l = lab(labId)
      return driverFor(l).capabilities(links(l), withLabDefaults(l, migrationParams.parse({})))
    },

    'experiments.start': async (input) => {
      const l = lab(input.labId)
      const driver = driverFor(l)
      const all = links(l)
      const from = node(all, input.from)
      const to = node(all, input.to)
      const params = withLabDefaults(l, input.params)
      // Refuse at the call what cannot run, with the driver's reason, rather than in a failed job.
      const support = await driver.capabilities([from, to], params)
      for (const id of input.strategies) {
        const sup = support.find((x) => x.id === id)
        if (!sup?.supported) throw new MigLabError('strategy_unsupported', `Strategy ${id} cannot run between ${from.name} and ${to.name}: ${sup?.reason ?? 'unknown strategy'}`, { strategy: id })
      }
      const running = (await driver.listVms([from, to])).find((v) => v.spec.name === input.vm)?.spec
      const vm = running ?? (l.kind === 'demo' && input.vm === DEMO_VM ? await demoGuest() : undefined)
      if (!vm) {
        throw new MigLabError('vm_not_found', `VM "${input.vm}" runs on neither ${from.name} nor ${to.name}.`, {
          hint: 'Start the VM on one of the nodes first; MigLab reboots it from its definition for each run.',
        })
      }
      const title = `Experiment: ${input.vm} ${from.name} → ${to.name}, ${input.strategies.join('/')} × ${input.workloads.length} workload(s) × ${input.repetitions}`
      return s.jobs.start('experiment', title, { ...input, params }, (ctx) =>
        runExperiment(ctx, { driver, writer }, { labId: l.id, vm, from, to, strategies: input.strategies, workloads: input.workloads, repetitions: input.repetitions, params }),
      )
    },

    'runs.get': async ({ id }) => {
      const run = runDetail(s.db, id)
      if (!run) throw new MigLabError('run_not_found', `No run with id ${id}.`, { hint: 'It may have been deleted; list the runs again.' })
      return run
    },

    'runs.compare': async ({ ids, baseline }) => compareRuns(runSummaries(s.db, ids), baseline ?? 'precopy'),
  }
}
