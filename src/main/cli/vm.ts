import type { Command } from 'commander'
import type { VmInfo } from '../../shared/contract/migration'
import { findLab } from './run'
import { call, withCore } from './session'
import { printable } from './words'

/** `miglab vm list --lab X`: which VMs run where, as the Migrate page shows them. */
export function registerVmCommands(program: Command): void {
  program
    .command('vm')
    .description('the VMs of a lab')
    .command('list')
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
}
