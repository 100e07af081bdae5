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

/** `miglab lab up --demo | down | status`: the demo lab from the command line, through the same core. */
export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the labs MigLab knows; the demo lab: lab nodes as network namespaces on this Linux host (root)')
  lab
    .command('up')
    .description('build or repair the demo lab (idempotent)')
    .option('--demo', 'the demo lab on this host (the only kind the CLI brings up)')
    .option('--nodes <n>', 'number of nodes, 1..8 (default: as before, else 2)')
    .option('--subnet <cidr>', 'IPv4 subnet (default: as before, else 198.18.0.0/24)')
    .action(async (o: { demo?: boolean; nodes?: string; subnet?: string }) => {
      if (!o.demo) throw new MigLabError('invalid_input', 'Only the demo lab can be brought up from the CLI.', { hint: 'miglab lab up --demo' })
      const input = { ...(o.nodes !== undefined ? { nodes: numberFlag('--nodes', o.nodes) } : {}), ...(o.subnet !== undefined ? { subnet: o.subnet } : {}) }
      await withCore(async (core) => {
        const job = await runJob(core, 'demo.up', input)
        const r = job.result as { elapsedMs: number; guestImage: { built: boolean } }
        console.log(`Up in ${(r.elapsedMs / 1000).toFixed(1)} s (guest image ${r.guestImage.built ? 'built' : 'from cache'}).`)
        printStatus(await call<DemoLabStatus>(core, 'demo.status', {}))
      })
    })
  lab
    .command('down')
    .description('remove every namespace, link, process and shared-memory file of the demo lab')
    .action(() =>
      withCore(async (core) => {
        await runJob(core, 'demo.down', {})
        console.log('Demo lab is down.')
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
    .description('nodes, addresses, namespaces and reachability of the demo lab')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      withCore(async (core) => {
        const status = await call<DemoLabStatus>(core, 'demo.status', {})
        if (o.json) console.log(JSON.stringify(status, null, 2))
        else printStatus(status)
      }),
    )
}
