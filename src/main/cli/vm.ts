import type { Command } from 'commander'
import type { VmInfo } from '../../shared/contract/migration'
import type { Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { Core } from '../core'
import { call, withCore } from './session'

async function labNamed(core: Core, name: string): Promise<Lab> {
  const labs = await call<Lab[]>(core, 'labs.list', {})
  const lab = labs.find((l) => l.name === name || String(l.id) === name)
  if (!lab) throw new MigLabError('lab_not_found', `No lab called "${name}".`, { hint: `Labs: ${labs.map((l) => l.name).join(', ') || 'none (try miglab lab up --demo)'}` })
  return lab
}

function printVms(vms: VmInfo[]): void {
  if (!vms.length) return console.log('No VM runs on the lab’s nodes.')
  const rows = [['VM', 'NODE', 'STATE', 'MEMORY', 'SHARED RAM'], ...vms.map((v) => [v.name, v.node, v.state, `${v.memoryMiB} MiB`, v.sharedMemory ? 'yes' : 'no'])]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
}

/** `miglab vm list|start|stop`: where a lab's VMs run, and the demo guest booted or stopped by hand. */
export function registerVmCommands(program: Command): void {
  const vm = program.command('vm').description("a lab's virtual machines")
  vm.command('list')
    .description('every VM running on the lab’s nodes, with its state')
    .requiredOption('--lab <lab>', 'lab name or id')
    .option('--json', 'machine-readable output')
    .action((o: { lab: string; json?: boolean }) =>
      withCore(async (core) => {
        const vms = await call<VmInfo[]>(core, 'vms.list', { labId: (await labNamed(core, o.lab)).id })
        if (o.json) console.log(JSON.stringify(vms, null, 2))
        else printVms(vms)
      }),
    )
  vm.command('start')
    .description("boot a VM on a node (MigLab can boot the demo lab's guest)")
    .requiredOption('--lab <lab>', 'lab name or id')
    .requiredOption('--vm <vm>', 'VM name')
    .requiredOption('--node <node>', 'node to boot it on')
    .action((o: { lab: string; vm: string; node: string }) =>
      withCore(async (core) => {
        const v = await call<VmInfo>(core, 'vms.start', { labId: (await labNamed(core, o.lab)).id, vm: o.vm, node: o.node })
        console.log(`${v.name} runs on ${v.node} (${v.state}).`)
      }),
    )
  vm.command('stop')
    .description('stop a VM on one node, or everywhere it runs')
    .requiredOption('--lab <lab>', 'lab name or id')
    .requiredOption('--vm <vm>', 'VM name')
    .option('--node <node>', 'only on this node')
    .action((o: { lab: string; vm: string; node?: string }) =>
      withCore(async (core) => {
        const r = await call<{ stoppedOn: string[] }>(core, 'vms.stop', { labId: (await labNamed(core, o.lab)).id, vm: o.vm, ...(o.node !== undefined ? { node: o.node } : {}) })
        console.log(r.stoppedOn.length ? `Stopped ${o.vm} on ${r.stoppedOn.join(', ')}.` : `${o.vm} was not running there.`)
      }),
    )
}
