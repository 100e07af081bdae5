import type { Command } from 'commander'
import { parseWorkload, strategyIds, type Comparison, type VmInfo, type Workload } from '../../shared/contract/migration'
import type { JobInfo, Lab } from '../../shared/domain'
import { numberFlag, printable, shown } from './words'
import { HEADLINE_METRICS } from '../../shared/metrics'
import { MigLabError } from '../../shared/errors'
import { call, followJob, withCore } from './session'
import { runIdsOfJob } from '../store/run-detail'

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean)

const fmt = (v: number): string => (!Number.isFinite(v) ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2))
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${fmt(v)}`

/**
 * One block per strategy × workload: for each headline metric of the registry, n, mean, sd, 95 % CI,
 * and the % change against the baseline with its own 95 % interval (Welch) — and, when that interval
 * spans zero, that the groups cannot be told apart at this n and how many runs each would need.
 */
export function resultsTable(c: Comparison): string {
  const lines: string[] = []
  for (const g of c.groups) {
    lines.push(`${printable(g.strategy)} · ${printable(g.workload)}`)
    for (const d of HEADLINE_METRICS) {
      const m = g.metrics[d.key]
      if (!m) continue
      const scale = d.unit === 'bytes' ? 1 / 1048576 : 1
      const unit = d.unit === 'bytes' ? 'MiB' : d.unit
      let change = ''
      if (m.changePct !== undefined && m.change) {
        change = `   ${signed(m.changePct)} % [${signed(m.change.lo)}, ${signed(m.change.hi)}]`
        if (!m.change.distinguishable) change += ` not distinguishable at n = ${m.n}${m.change.neededN ? ` (≈${m.change.neededN} runs each would separate them)` : ''}`
      }
      lines.push(`  ${d.label.padEnd(22)} n=${String(m.n).padEnd(3)} ${fmt(m.mean * scale)} ± ${fmt(m.ci95 * scale)} ${unit} (sd ${fmt(m.sd * scale)})${change}`)
    }
  }
  lines.push(`(± is the 95 % CI half-width; % change against ${c.baseline} with the same workload, [95 % interval, Welch])`)
  return lines.join('\n')
}

interface RunOptions {
  lab: string
  preset?: string
  vm: string
  from?: string
  to?: string
  strategy: string
  workload: string[]
  reps: string
  maxBandwidth?: string
  downtimeLimit?: string
  multifdChannels?: string
  postcopyAfterMs?: string
  postcopyAfterPasses?: string
  sharedDir?: string
  nodeMemoryDir?: string
  sharedDiskDir?: string
  migrationNetwork?: string
  probeInterval?: string
  json?: boolean
}

/** A lab by name or id, or a refusal that lists the labs there are. */
export async function findLab(core: Parameters<typeof call>[0], given: string): Promise<Lab> {
  return pickLab(await call<Lab[]>(core, 'labs.list', {}), given)
}

export function pickLab(labs: readonly Lab[], given: string, flag = '--lab'): Lab {
  const lab = labs.find((l) => l.name === given || String(l.id) === given)
  if (!lab) {
    throw new MigLabError('lab_not_found', `${flag}: no lab called ${shown(given)}.`, {
      hint: labs.length ? `Labs here: ${labs.map((l) => shown(l.name)).join(', ')}.` : 'There are no labs yet: miglab lab up --demo creates the demo lab.',
    })
  }
  return lab
}

function workloadFlag(text: string): Workload {
  try {
    return parseWorkload(text)
  } catch {
    throw new MigLabError('invalid_argument', `--workload: ${shown(text)} is not a workload.`, {
      hint: 'Use idle, echo, dirty:<MiB>M:<MiB/s> (e.g. dirty:64M:50, both at least 1) or custom:<command>.',
    })
  }
}

/**
 * The thesis's comparison: pre-copy against DSM over the network and shared memory (same host), an idle
 * guest and one dirtying 50 MiB/s, 10 runs each, interleaved. Flags given on the command line win.
 */
const PRESETS: Record<string, { strategy: string; workload: string[]; reps: string }> = {
  thesis: { strategy: 'precopy,dsm-runtime,dsm', workload: ['idle', 'dirty:64M:50'], reps: '10' },
}

async function run(o: RunOptions, command: Command): Promise<void> {
  if (o.preset !== undefined) {
    const preset = PRESETS[o.preset]
    if (!preset) throw new MigLabError('invalid_argument', `--preset ${shown(o.preset)}: use ${Object.keys(PRESETS).join(', ')}.`)
    for (const key of ['strategy', 'workload', 'reps'] as const) if (command.getOptionValueSource(key) !== 'cli') Object.assign(o, { [key]: preset[key] })
  }
  await withCore(async (core) => {
    const lab = await findLab(core, o.lab)
    // Default route: from where the VM runs now to the first other node. An empty --from is an empty
    // name (refused by the contract), not a missing flag.
    let from = o.from
    if (from === undefined) {
      const vms = await call<VmInfo[]>(core, 'vms.list', { labId: lab.id })
      from = vms.find((v) => v.name === o.vm)?.node
      if (from === undefined) {
        throw new MigLabError('vm_not_found', `--vm: VM ${shown(o.vm)} is not running on any node of lab ${shown(lab.name)}.`, {
          hint: `Name the node it starts from with --from (nodes: ${lab.nodes.map((n) => shown(n.name)).join(', ') || 'none'}). MigLab boots the demo lab's "guest" VM itself; any other VM must already run on one of them (miglab vm list --lab ${shown(lab.name)}).`,
        })
      }
    }
    const to = o.to ?? lab.nodes.find((n) => n.name !== from)?.name
    if (to === undefined) {
      throw new MigLabError('node_not_found', `Lab ${shown(lab.name)} has no other node to migrate ${shown(o.vm)} to.`, { hint: 'Add a second node to the lab, or name the destination with --to.' })
    }
    const params = Object.fromEntries(
      Object.entries({
        maxBandwidthMiBs: numberFlag('--max-bandwidth', o.maxBandwidth),
        downtimeLimitMs: numberFlag('--downtime-limit', o.downtimeLimit),
        multifdChannels: numberFlag('--multifd-channels', o.multifdChannels),
        postcopyAfterMs: numberFlag('--postcopy-after-ms', o.postcopyAfterMs),
        postcopyAfterPasses: numberFlag('--postcopy-after-passes', o.postcopyAfterPasses),
        sharedMemoryDir: o.sharedDir,
        nodeMemoryDir: o.nodeMemoryDir,
        sharedDiskDir: o.sharedDiskDir,
        migrationNetwork: o.migrationNetwork,
        probeIntervalMs: numberFlag('--probe-interval', o.probeInterval),
      }).filter(([, v]) => v !== undefined),
    )
    // Strategy names go to the contract as typed: it refuses unknown ones, named by flag.
    const input = {
      labId: lab.id,
      vm: o.vm,
      from,
      to,
      strategies: list(o.strategy),
      workloads: o.workload.flatMap(list).map(workloadFlag),
      repetitions: numberFlag('--reps', o.reps),
      params,
    }
    // Each run's figures are printed as it ends, not only the group means at the close.
    const { done } = await followJob(core, () => call<JobInfo>(core, 'experiments.start', input), 'Cancelling… (the VM is left running on one node)', { info: true })
    const runIds = runIdsOfJob(core.services.db, done.id)
    const comparison = runIds.length ? await call<Comparison>(core, 'runs.compare', { ids: runIds }) : { baseline: 'precopy', groups: [] }
    if (o.json) console.log(JSON.stringify({ job: done, runIds, comparison }, null, 2))
    else {
      console.log(resultsTable(comparison))
      console.log(`Runs ${runIds.join(', ')} stored (miglab runs export).`)
    }
    if (done.status !== 'succeeded') throw new MigLabError(done.error?.code ?? done.status, done.error?.message ?? `The experiment ${done.status}.`)
  })
}

/** run (an experiment); the history's commands live in runs.ts. */
export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run a migration experiment (strategies × workloads × repetitions) and print mean ± 95 % CI per group')
    .requiredOption('--lab <lab>', 'lab name or id')
    .requiredOption('--vm <vm>', 'VM name')
    .option('--from <node>', 'source node (default: where the VM runs)')
    .option('--to <node>', 'destination node (default: the first other node)')
    .option('--strategy <list>', strategyIds.join(','), 'precopy')
    .option('--workload <spec...>', 'idle | echo | dirty:<MiB>M:<MiB/s> | custom:<command>', ['idle'])
    .option('--reps <n>', 'repetitions per strategy × workload', '5')
    .option('--preset <name>', `a ready-made comparison: ${Object.entries(PRESETS).map(([k, p]) => `${k} (${p.strategy} × ${p.workload.join(', ')} × ${p.reps})`).join('; ')}`)
    .option('--max-bandwidth <MiB/s>', 'migration bandwidth cap (default 1024; QEMU’s own is 128)')
    .option('--downtime-limit <ms>', 'QEMU downtime-limit')
    .option('--multifd-channels <n>', 'channels for multifd')
    .option('--postcopy-after-ms <ms>', 'switch to post-copy after this long')
    .option('--postcopy-after-passes <n>', 'switch to post-copy after this many passes')
    .option('--shared-dir <path>', 'folder both nodes share as memory, for dsm (demo lab: /dev/shm)')
    .option('--node-memory-dir <path>', "each node's own memory for guest RAM, for dsm-runtime (default /dev/shm; demo lab: its per-node tmpfs)")
    .option('--shared-disk-dir <path>', 'folder every node mounts at the same path (NFS wizard: /mnt/miglab): the guest gets a raw disk there (xl)')
    .option('--migration-network <uuid>', 'network the memory stream goes over, for drivers that can choose (xe: a uuid from xe network-list)')
    .option('--probe-interval <ms>', 'UDP probe interval (default 1)')
    .option('--json', 'machine-readable output')
    .action(run)
}
