// Soak: many consecutive migrations on the demo lab in one MigLab process. Prints open file
// descriptors, child processes and RSS after a warm-up and at the end (goal: no growth). Never
// passes or fails. Run as root:  npx tsx bench/soak.ts [--runs 50]
// MIGLAB_BENCH_GUEST_CACHE=<demo-lab cache dir> copies an already built guest image.
import { migrationParams } from '../src/shared/contract/migration'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createCore } from '../src/main/core'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import type { StepReporter } from '../src/main/lab/demo-lab'
import { DEMO_VM } from '../src/main/migration/demo-vm'
import { nodeKey } from '../src/main/ssh/targets'

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '50' } } })
const total = Number(args.runs)
const WARMUP = 5
const PREFIX = 'mgsoak'
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-soak-'))
const cache = process.env.MIGLAB_BENCH_GUEST_CACHE
if (cache && existsSync(cache)) cpSync(cache, join(dataDir, 'demo-lab', 'cache'), { recursive: true })
const core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
const quiet: StepReporter = { progress: () => {}, checkCancelled: () => {} }

interface Footprint {
  fds: number
  children: number
  rssMiB: number
}

function footprint(): Footprint {
  const children = readdirSync('/proc').filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      return /^\d+$/.test(p) && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid
    } catch {
      return false
    }
  }).length
  return { fds: readdirSync('/proc/self/fd').length, children, rssMiB: Math.round(process.memoryUsage().rss / 1048576) }
}

async function migrations(n: number, labId: number, from: string, to: string): Promise<string> {
  const job = await core.handlers['experiments.start']({
    labId,
    vm: DEMO_VM,
    from,
    to,
    strategies: ['precopy'],
    workloads: [{ kind: 'echo' }],
    repetitions: n,
    params: migrationParams.parse({ maxBandwidthMiBs: 1024, multifdChannels: 2, probeIntervalMs: 1, timeoutMs: 120_000 }),
  })
  const done = await core.services.jobs.wait(job.id)
  return `${done.status}${done.result ? ` ${JSON.stringify(done.result).slice(0, 80)}` : ''}`
}

try {
  const { labId } = await core.services.demoLab.up({ subnet: '198.19.217.0/24', nodes: 2 }, quiet)
  const [a, b] = core.services.labs.get(labId)!.nodes.map((n) => n.name)
  const started = Date.now()
  console.error(`warm-up: ${WARMUP} migrations… ${await migrations(WARMUP, labId, a, b)}`)
  global.gc?.()
  const warm = footprint()
  console.error(`soak: ${total - WARMUP} more… ${await migrations(total - WARMUP, labId, a, b)}`)
  global.gc?.()
  const end = footprint()
  console.log(`\nsoak on the demo lab: ${total} migrations (pre-copy, echo) in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  console.log(`                 after warm-up   at the end   ratio`)
  for (const k of ['fds', 'children', 'rssMiB'] as const) console.log(`  ${k.padEnd(14)} ${String(warm[k]).padStart(13)}   ${String(end[k]).padStart(10)}   ×${(end[k] / Math.max(1, warm[k])).toFixed(2)}`)
} finally {
  const lab = core.services.labs.list().find((l) => l.kind === 'demo')
  for (const n of lab?.nodes ?? []) await core.services.drivers.qemu.stop(new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host), DEMO_VM).catch(() => undefined)
  await core.services.demoLab.down(quiet)
  await core.close()
  rmSync(dataDir, { recursive: true, force: true })
}
