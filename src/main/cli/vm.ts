import type { Command } from 'commander'
import type { VmInfo } from '../../shared/contract/migration'
import { findLab } from './run'
import { call, withCore } from './session'
import { printable } from './words'

/** `miglab vm list|start|stop`: where a lab's VMs run, and the demo guest booted or stopped by hand. */
export function registerVmCommands(program: Command): void {
  const vm = program.command('vm').description('the VMs of a lab')
  vm.command('list')
    .description('VMs running on the nodes of a lab, with their node and state')
    .requiredOption('--lab <lab>', 'lab name or id')
    .option('--json', 'machine-readable output')
    .action((o: { lab: string; json?: boolean }) =>
      withCore(async (core) => {
        const lab = await findLab(core, o.lab)
        const vms = await call<VmInfo[]>(core, 'vms.list', { labId: lab.id })
        if (o.json) return console.log(JSON.stringify(vms, null, 2))
        if (!vms.length) return console.log(`No VM runs on the nodes of ${printable(lab.name)}.`)
        const rows = [['VM', 'NODE', 'STATE', 'MEMORY'], ...vms.map((v) => [printable(v.name), printable(v.node), printable(v.state), `${v.memoryMiB} MiB${v.sharedMemory ? ' (shared)' : ''}`])]
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
        for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
      }),
    )
  vm.command('start')
    .description("boot a VM on a node (MigLab can boot the demo lab's guest)")
    .requiredOption('--lab <lab>', 'lab name or id')
    .requiredOption('--vm <vm>', 'VM name')
    .requiredOption('--node <node>', 'node to boot it on')
    .action((o: { lab: string; vm: string; node: string }) =>
      withCore(async (core) => {
        const v = await call<VmInfo>(core, 'vms.start', { labId: (await findLab(core, o.lab)).id, vm: o.vm, node: o.node })
        console.log(`${printable(v.name)} runs on ${printable(v.node)} (${printable(v.state)}).`)
      }),
    )
  vm.command('stop')
    .description('stop a VM on one node, or everywhere it runs')
    .requiredOption('--lab <lab>', 'lab name or id')
    .requiredOption('--vm <vm>', 'VM name')
    .option('--node <node>', 'only on this node')
    .action((o: { lab: string; vm: string; node?: string }) =>
      withCore(async (core) => {
        const r = await call<{ stoppedOn: string[] }>(core, 'vms.stop', { labId: (await findLab(core, o.lab)).id, vm: o.vm, ...(o.node !== undefined ? { node: o.node } : {}) })
        console.log(r.stoppedOn.length ? `Stopped ${printable(o.vm)} on ${r.stoppedOn.map(printable).join(', ')}.` : `${printable(o.vm)} was not running there.`)
      }),
    )
}
