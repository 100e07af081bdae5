import type { Command } from 'commander'
import type { Method } from '../../shared/api'
import type { DemoLabStatus, JobInfo, Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { Core } from '../core'
import { FIX_PREFIX } from '../handlers/lab'
import { call, followJob, withCore } from './session'
import { numberFlag, printable } from './words'

/** Runs a demo-lab job to its end; a failure carries the fix the job logged. */
async function runJob(core: Core, method: Method, input: unknown): Promise<JobInfo> {
  const { done, logs } = await followJob(core, () => call<JobInfo>(core, method, input))
  if (done.status === 'succeeded') return done
  const fix = logs.map((l) => l.message).find((m) => m.startsWith(FIX_PREFIX))?.slice(FIX_PREFIX.length)
  throw new MigLabError(done.error?.code ?? done.status, done.error?.message ?? `${done.title}: ${done.status}.`, fix ? { hint: fix } : undefined)
}

function printStatus(s: DemoLabStatus): void {
  console.log(`Demo lab (${s.prefix}): ${s.state.toUpperCase()}   subnet ${s.subnet}   management ${s.managementIp}   guest ${s.guestIp}   accel ${s.accel ?? '?'}`)
  const rows = [['NODE', 'ADDRESS', 'NAMESPACE', 'SSHD', 'REACHABLE'], ...s.nodes.map((n) => [printable(n.name), `${n.ip}:22`, n.namespace, n.sshdRunning ? 'running' : 'stopped', n.reachable ? 'yes' : 'no'])]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log('  ' + r.map((c, i) => c.padEnd(widths[i])).join('  '))
  for (const p of s.problems) console.log(`  ! ${printable(p)}`)
}

/** `--hypervisor qemu|xen`: which demo lab a command acts on. */
function hypervisorFlag(value: string | undefined): 'qemu' | 'xen' | undefined {
  if (value === undefined) return undefined
  if (value === 'qemu' || value === 'xen') return value
  throw new MigLabError('invalid_input', `--hypervisor must be qemu or xen, not ${JSON.stringify(value)}.`, { hint: 'miglab lab up --demo --hypervisor xen' })
}

/** `miglab lab up --demo [--hypervisor xen] | down | status`: the demo labs from the command line, through the same core. */
export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the labs MigLab knows; the demo labs: QEMU nodes as network namespaces, or two Xen hosts as QEMU guests, on this Linux host (root)')
  lab
    .command('up')
    .description('build or repair a demo lab (idempotent)')
    .option('--demo', 'a demo lab on this host (the only kind the CLI brings up)')
    .option('--hypervisor <kind>', 'qemu (default): namespace nodes; xen: two Xen 4.17 hosts with xl (dom0 image built once, ~2 min)')
    .option('--nodes <n>', 'number of nodes, 1..8 (QEMU lab; default: as before, else 2)')
    .option('--subnet <cidr>', 'IPv4 subnet (default: as before, else 198.18.0.0/24 for QEMU, 198.18.1.0/24 for Xen)')
    .action(async (o: { demo?: boolean; nodes?: string; subnet?: string; hypervisor?: string }) => {
      if (!o.demo) throw new MigLabError('invalid_input', 'Only the demo lab can be brought up from the CLI.', { hint: 'miglab lab up --demo' })
      const hypervisor = hypervisorFlag(o.hypervisor)
      const input = {
        ...(o.nodes !== undefined ? { nodes: numberFlag('--nodes', o.nodes) } : {}),
        ...(o.subnet !== undefined ? { subnet: o.subnet } : {}),
        ...(hypervisor ? { hypervisor } : {}),
      }
      await withCore(async (core) => {
        const job = await runJob(core, 'demo.up', input)
        if (hypervisor === 'xen') {
          const r = job.result as { elapsedMs: number; bootMs: number; dom0Image: { built: boolean; buildMs: number }; gate: { bytes: number; hosts: { node: string; ms: number }[] } }
          console.log(
            `Up in ${(r.elapsedMs / 1000).toFixed(1)} s (dom0 image ${r.dom0Image.built ? `built in ${(r.dom0Image.buildMs / 1000).toFixed(1)} s` : 'from cache'}, hosts booted in ${(r.bootMs / 1000).toFixed(1)} s; ` +
              `integrity check passed: ${r.gate.bytes / 1048576} MiB into ${r.gate.hosts.map((h) => `${h.node} in ${(h.ms / 1000).toFixed(1)} s`).join(', ')} with a guest running).`,
          )
        } else {
          const r = job.result as { elapsedMs: number; guestImage: { built: boolean } }
          console.log(`Up in ${(r.elapsedMs / 1000).toFixed(1)} s (guest image ${r.guestImage.built ? 'built' : 'from cache'}).`)
        }
        printStatus(await call<DemoLabStatus>(core, 'demo.status', hypervisor ? { hypervisor } : {}))
      })
    })
  lab
    .command('down')
    .description('remove every namespace, link, process and file a demo lab made (both labs unless --hypervisor says which)')
    .option('--hypervisor <kind>', 'qemu or xen')
    .action((o: { hypervisor?: string }) =>
      withCore(async (core) => {
        const which = hypervisorFlag(o.hypervisor)
        // Without a flag, the Xen lab only if this data dir brought one up (its namespace names are global).
        const xenHere = core.services.xenLab.paths.readSettings() !== undefined
        for (const h of which ? [which] : (['qemu', ...(xenHere ? ['xen' as const] : [])] as const)) {
          await runJob(core, 'demo.down', { hypervisor: h })
          console.log(`${h === 'xen' ? 'Xen demo lab' : 'Demo lab'} is down.`)
        }
      }),
    )
  lab
    .command('list')
    .description('every lab MigLab knows (demo and real), with its id, hypervisor and nodes')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      withCore(async (core) => {
        const labs = await call<Lab[]>(core, 'labs.list', {})
        if (o.json) return console.log(JSON.stringify(labs, null, 2))
        if (!labs.length) return console.log('No labs yet: miglab lab up --demo creates the demo lab.')
        for (const l of labs) console.log(`${String(l.id).padStart(4)}  ${printable(l.name)}  ${l.kind}  ${l.hypervisor}  nodes: ${l.nodes.map((n) => `${printable(n.name)} (${printable(n.host)})`).join(', ') || 'none'}`)
      }),
    )
  lab
    .command('status')
    .description('nodes, addresses, namespaces and reachability of a demo lab')
    .option('--hypervisor <kind>', 'qemu (default) or xen')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean; hypervisor?: string }) =>
      withCore(async (core) => {
        const which = hypervisorFlag(o.hypervisor)
        const status = await call<DemoLabStatus>(core, 'demo.status', which ? { hypervisor: which } : {})
        if (o.json) console.log(JSON.stringify(status, null, 2))
        else printStatus(status)
      }),
    )
}
