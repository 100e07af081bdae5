import type { Command } from 'commander'
import { wizardIds, type SetupRunReport, type SetupStepResult, type WizardId, type WizardStatus } from '../../shared/contract/setup'
import type { JobInfo } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { describe } from '../setup/engine'
import { setupFigureLines } from '../setup/figures'
import { findLab } from './run'
import { call, followJob, withCore } from './session'
import { printable } from './words'

const line = (r: SetupStepResult): string[] => [
  `${printable(r.node ?? 'lab')}  ${printable(r.title)}: ${printable(describe(r))}`,
  ...r.commands.map((c) => `    $ ${c.split('\n').map(printable).join('\n      ')}`),
  ...(r.error?.detail?.command ? [`    command: ${printable(r.error.detail.command)}`] : []),
  ...(r.error?.detail?.stderrTail ? r.error.detail.stderrTail.split('\n').map((l) => `    | ${printable(l)}`) : []),
]

/** `miglab setup <wizard> --lab L [--dry-run] [--check] [--json]`: the Setup page's engine from a shell. */
export function registerSetupCommands(program: Command): void {
  program
    .command('setup')
    .description(`set a lab up with a wizard (${wizardIds.join(', ')}): check, apply, verify; --dry-run lists every command per node first`)
    .argument('<wizard>', wizardIds.join(' | '))
    .requiredOption('--lab <lab>', 'lab name or id')
    .option('--dry-run', 'check only, and list every command apply would run, per node, exactly as it would run')
    .option('--check', 'check again: re-run only the checks and store what they find')
    .option('--json', 'machine-readable output')
    .option('--grappa-source <path>', 'mpi: the Grappa source tree on every node (optional step; skipped without it)')
    .option('--grappa-third-party <tar>', 'mpi: grappa-third-party-downloads.tar on every node, for an offline build')
    .option('--pool-master <host>', 'xcpng: the pool master (default: the lab\'s first node)')
    .option('--pool-master-user <user>', 'xcpng: the master\'s user for xe pool-join (default root)')
    .option('--pool-password-stdin', 'xcpng: read the master\'s password from standard input (never from the command line)')
    .option('--pool-name <name>', 'xcpng: name the pool')
    .option('--sr-server <host>', 'xcpng: the NFS server of a shared SR (optional step)')
    .option('--sr-path <path>', 'xcpng: the exported path of that SR')
    .action(async (wizard: string, o: SetupFlags) => {
      // Read before the core starts: a password piped in arrives whole, and is never echoed or logged.
      const password = o.poolPasswordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined
      await withCore(async (core) => {
        const lab = await findLab(core, o.lab)
        const start = () =>
          o.check
            ? call<JobInfo>(core, 'setup.check', { labId: lab.id, wizard })
            : call<JobInfo>(core, 'setup.run', {
                labId: lab.id,
                wizard,
                dryRun: o.dryRun === true,
                options: {
                  ...(o.grappaSource ? { grappaSource: o.grappaSource } : {}),
                  ...(o.grappaThirdParty ? { grappaThirdParty: o.grappaThirdParty } : {}),
                  ...(o.poolMaster ? { poolMaster: o.poolMaster } : {}),
                  ...(o.poolMasterUser ? { poolMasterUser: o.poolMasterUser } : {}),
                  ...(password ? { poolMasterPassword: password } : {}),
                  ...(o.poolName ? { poolName: o.poolName } : {}),
                  ...(o.srServer ? { srServer: o.srServer } : {}),
                  ...(o.srPath ? { srPath: o.srPath } : {}),
                },
              })
        const { done } = await followJob(core, start, 'Cancelling the wizard…')
        const status = (await call<WizardStatus[]>(core, 'setup.list', { labId: lab.id })).find((w) => w.id === (wizard as WizardId))
        const report = done.result as SetupRunReport | undefined
        if (o.json) {
          console.log(JSON.stringify({ job: { id: done.id, status: done.status, error: done.error }, report: report ?? null, state: status?.state, steps: status?.steps }, null, 2))
        } else {
          // A failed run's report is not in the job: its steps are what the store now holds.
          for (const r of report?.steps ?? status?.steps ?? []) for (const l of line(r)) console.log(l)
          for (const l of setupFigureLines(status?.steps ?? [])) console.log(printable(l))
          console.log(`${printable(status?.title ?? wizard)} on ${printable(lab.name)}: ${status?.state.replace('_', ' ') ?? 'unknown'}${o.dryRun ? ' (dry run: nothing changed)' : ''}`)
        }
        if (done.status !== 'succeeded') {
          const failed = status?.steps.find((s) => s.outcome === 'failed')
          throw new MigLabError(done.error?.code ?? 'setup_failed', done.error?.message ?? 'The wizard did not finish.', failed?.error?.detail)
        }
      })
    })
}

interface SetupFlags {
  lab: string
  dryRun?: boolean
  check?: boolean
  json?: boolean
  grappaSource?: string
  grappaThirdParty?: string
  poolMaster?: string
  poolMasterUser?: string
  poolPasswordStdin?: boolean
  poolName?: string
  srServer?: string
  srPath?: string
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
