import type { ParsedInput } from '../../shared/api'
import { migrationParams, type MigrationParams, type MigrationResults, type VmInfo } from '../../shared/contract/migration'
import { HYPERVISOR_NAMES, type Lab } from '../../shared/domain'
import { MigLabError, toApiError } from '../../shared/errors'
import type { HypervisorDriver, VmInstance } from '../hypervisors/driver'
import type { NodeLink } from '../hypervisors/node-link'
import { SshNodeLink } from '../hypervisors/ssh-node-link'
import type { DemoLab } from '../lab/demo-lab'
import { ensureGuestImage } from '../lab/guest-image'
import { compareRuns } from '../migration/compare'
import { DEMO_VM, demoVmSpec } from '../migration/demo-vm'
import { join } from 'node:path'
import { safeId } from '../util/safe-id'
import { recoverPlacement } from '../migration/recover'
import { withLock } from '../util/file-lock'
import { runExperiment } from '../migration/runner'
import type { Services } from '../services'
import { nodeKey } from '../ssh/targets'
import { runDetail, runSummaries } from '../store/run-detail'
import { RunWriter } from '../store/run-writer'

type MigrationHandlers = { [M in keyof MigrationResults]: (input: ParsedInput<M>) => Promise<MigrationResults[M]> }

/**
 * Demo-lab nodes share this machine's /dev/shm: shared memory works there without a cluster file
 * system (an ideal no two-node lab has). Each node also has memory of its own (a tmpfs in its mount
 * namespace) for the DSM runtime's source file and replica. The lab's own folders, so `lab down`
 * removes its guests' RAM. (The Xen demo lab's hosts are VMs of their own: none of this applies.)
 */
export const withLabDefaults = (lab: Lab, params: MigrationParams, demo: DemoLab): MigrationParams =>
  lab.kind === 'demo' && lab.hypervisor === 'qemu'
    ? { ...params, sharedMemoryDir: params.sharedMemoryDir ?? demo.paths.shmDir, nodeMemoryDir: params.nodeMemoryDir ?? demo.paths.ramDir }
    : params

const toVmInfo = (v: VmInstance): VmInfo => ({ name: v.spec.name, node: v.node, state: v.state, memoryMiB: v.spec.memoryMiB, sharedMemory: !!v.spec.sharedMemoryPath })

const labLinks = (s: Services, l: Lab): NodeLink[] => l.nodes.map((n) => new SshNodeLink(s.ssh, nodeKey(n.id), n.name, n.host))

/**
 * After a crash: finds where each interrupted run's VM really is and removes paused leftover copies,
 * as a job (it needs SSH); each run gets a `placement` event, so a job cut short resumes next start.
 */
export function recoverPlacements(s: Services): void {
  const pending = s.runs.awaitingPlacement()
  if (!pending.length) return
  const writer = new RunWriter(s.db)
  s.jobs.start('recover', `Find the VMs of ${pending.length} interrupted run(s)`, { runs: pending.map((p) => p.id) }, async (ctx) => {
    for (const [i, run] of pending.entries()) {
      ctx.checkCancelled()
      ctx.progress(i / pending.length, `Run ${run.id}: where is ${run.vm}?`)
      const lab = s.labs.get(run.labId)
      if (!lab) continue
      try {
        const found = await recoverPlacement(s.drivers[lab.hypervisor], labLinks(s, lab), run.vm)
        // Stamped when it was found, on the run's own timeline (long after the run's last sample).
        writer.event(run.id, Date.now() - Date.parse(run.startedAt), 'placement', found)
        writer.flush()
        ctx.log(found.note ? 'warn' : 'info', `Run ${run.id}: ${run.vm} runs on ${found.runningOn.join(', ') || 'no node'}${found.removed.length ? `; removed paused copies on ${found.removed.map((r) => `${r.node} (${r.state})`).join(', ')}` : ''}${found.note ? ` — ${found.note}` : ''}.`)
      } catch (err) {
        ctx.log('warn', `Run ${run.id}: could not reach lab ${lab.name} to find ${run.vm} (${toApiError(err).message}); tried again at the next start.`)
      }
    }
  })
}

/** Each lab chooses its hypervisor; the runner only ever sees the driver interface. */
export function migrationHandlers(s: Services): MigrationHandlers {
  const driverFor = (l: Lab): HypervisorDriver => s.drivers[l.hypervisor]
  const lab = (id: number): Lab => s.labs.require(id)
  const links = (l: Lab) => labLinks(s, l)
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
  // The Xen lab's guest boots from files inside each dom0 (baked into its image).
  const demoGuest = async (l: Lab) => (l.hypervisor === 'xl' ? s.xenLab.vmSpec() : demoVmSpec(s.demoLab.plan(), await ensureGuestImage(s.demoLab.paths.cacheDir, () => undefined)))

  return {
    'vms.list': async ({ labId }) => {
      const l = lab(labId)
      return (await driverFor(l).listVms(links(l))).map(toVmInfo)
    },

    'vms.start': async ({ labId, vm, node: name }) => {
      const l = lab(labId)
      const all = links(l)
      const target = node(all, name)
      const elsewhere = (await driverFor(l).listVms(all)).find((v) => v.spec.name === vm)
      if (elsewhere) throw new MigLabError('vm_already_running', `VM "${vm}" already runs on ${elsewhere.node}.`, { hint: 'Stop it there first, or migrate it.' })
      // MigLab keeps no VM catalogue: the demo lab's guest is the one definition it can boot from nothing.
      if (!(l.kind === 'demo' && vm === DEMO_VM)) {
        throw new MigLabError('vm_unknown', `MigLab has no definition for VM "${vm}" in lab ${l.name}.`, { hint: `Only the demo lab's "${DEMO_VM}" can be started from MigLab; start other VMs on the node.` })
      }
      const v = await driverFor(l).start(target, await demoGuest(l))
      return toVmInfo(v)
    },

    'vms.stop': async ({ labId, vm, node: name }) => {
      const l = lab(labId)
      const all = links(l)
      const targets = name === undefined ? all : [node(all, name)]
      const running = new Set((await driverFor(l).listVms(targets)).filter((v) => v.spec.name === vm).map((v) => v.node))
      for (const t of targets.filter((t) => running.has(t.name))) await driverFor(l).stop(t, vm)
      return { stoppedOn: [...running] }
    },

    'migration.capabilities': async ({ labId }) => {
      const l = lab(labId)
      return driverFor(l).capabilities(links(l), withLabDefaults(l, migrationParams.parse({}), s.demoLab))
    },

    'migration.networks': async ({ labId }) => {
      const l = lab(labId)
      const driver = driverFor(l)
      if (!driver.migrationNetworks) return { supported: false, reason: `The ${HYPERVISOR_NAMES[l.hypervisor]} driver migrates over the addresses of the lab's nodes; MigLab offers no network choice for it.`, networks: [] }
      return { supported: true, networks: await driver.migrationNetworks(links(l)) }
    },

    'experiments.start': async (input) => {
      const l = lab(input.labId)
      const driver = driverFor(l)
      const all = links(l)
      const from = node(all, input.from)
      const to = node(all, input.to)
      const params = withLabDefaults(l, input.params, s.demoLab)
      if (params.migrationNetwork && !driver.migrationNetworks) {
        throw new MigLabError('param_unsupported', `The ${HYPERVISOR_NAMES[l.hypervisor]} driver cannot choose a migration network.`, { hint: 'Leave the migration network empty for this lab.' })
      }
      // Refuse at the call what cannot run, with the driver's reason, rather than in a failed job.
      const support = await driver.capabilities([from, to], params)
      for (const id of input.strategies) {
        const sup = support.find((x) => x.id === id)
        if (!sup?.supported) throw new MigLabError('strategy_unsupported', `Strategy ${id} cannot run between ${from.name} and ${to.name}: ${sup?.reason ?? 'unknown strategy'}`, { strategy: id })
      }
      const running = (await driver.listVms([from, to])).find((v) => v.spec.name === input.vm)?.spec
      const vm = running ?? (l.kind === 'demo' && input.vm === DEMO_VM ? await demoGuest(l) : undefined)
      if (!vm) {
        throw new MigLabError('vm_not_found', `VM "${input.vm}" runs on neither ${from.name} nor ${to.name}.`, {
          hint: 'Start the VM on one of the nodes first; MigLab reboots it from its definition for each run.',
        })
      }
      const title = `Experiment: ${input.vm} ${from.name} → ${to.name}, ${input.strategies.join('/')} × ${input.workloads.length} workload(s) × ${input.repetitions}`
      // One experiment per VM across MigLab processes (app, browser mode, CLI): keyed by lab id and VM.
      const lock = join(s.dataDir, 'locks', `vm-${l.id}-${safeId(input.vm)}.lock`)
      const busy = (pid: number | undefined) =>
        new MigLabError('migration_in_progress', `VM "${input.vm}" of lab ${l.name} is being migrated by another MigLab ${pid === process.pid ? 'job' : 'process'}${pid && pid !== process.pid ? ` (pid ${pid})` : ''}.`, {
          hint: 'Wait for that experiment to end, or cancel it.',
        })
      return s.jobs.start('experiment', title, { ...input, params }, (ctx) =>
        withLock(lock, busy, () => runExperiment(ctx, { driver, writer, clocks: s.clocks }, { labId: l.id, vm, from, to, strategies: input.strategies, workloads: input.workloads, repetitions: input.repetitions, params })),
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
