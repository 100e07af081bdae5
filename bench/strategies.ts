// Migration strategies against the pre-copy baseline, on the demo lab's Linux guest over real SSH.
// Prints means ± 95 % CI and ratios (strategy / pre-copy) of the three downtimes, data sent and total
// time, per workload. Never passes or fails. Run as root:
//   npx tsx bench/strategies.ts [--reps 5] [--strategies precopy,dsm,dsm-runtime,postcopy] [--workloads idle,dirty:64M:50] [--tls]
// dsm-runtime (DSM over the network) runs the MPI wizard on the lab first and prints the final sync's share of each downtime.
// --tls runs the matrix again with the migration stream encrypted and prints TLS / plain per metric.
// --reuse keeps the guest between runs when its definition is unchanged (runs alternate direction).
// MIGLAB_BENCH_GUEST_CACHE=<demo-lab cache dir> copies an already built guest image (skips the kernel download).
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { migrationParams, parseWorkload, strategyId, type Comparison } from '../src/shared/contract/migration'
import { resultsTable } from '../src/main/cli/run'
import { createCore } from '../src/main/core'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import type { StepReporter } from '../src/main/lab/demo-lab'
import { HEADLINE_METRICS } from '../src/shared/metrics'
import { DEMO_VM } from '../src/main/migration/demo-vm'
import { nodeKey } from '../src/main/ssh/targets'
import { runIdsOfJob } from '../src/main/store/run-detail'

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    strategies: { type: 'string', default: 'precopy,dsm' },
    workloads: { type: 'string', default: 'idle,dirty:64M:50' },
    tls: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
})
const PREFIX = process.env.MIGLAB_DEMO_PREFIX || 'mgb'
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-bench-'))
const cache = process.env.MIGLAB_BENCH_GUEST_CACHE
if (cache && existsSync(cache)) cpSync(cache, join(dataDir, 'demo-lab', 'cache'), { recursive: true })
const core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
const lab = core.services.demoLab
const quiet: StepReporter = { progress: () => {}, checkCancelled: () => {} }

const RATIOS = HEADLINE_METRICS.map((m) => [m.key, m.short] as const)

function ratios(c: Comparison): string {
  const lines: string[] = []
  for (const g of c.groups.filter((g) => g.strategy !== c.baseline)) {
    const base = c.groups.find((b) => b.strategy === c.baseline && b.workload === g.workload)
    if (!base) continue
    const cells = RATIOS.map(([m, label]) => {
      const r = (g.metrics[m]?.mean ?? NaN) / (base.metrics[m]?.mean ?? NaN)
      return `${label} ×${Number.isFinite(r) ? (r < 0.1 ? r.toPrecision(2) : r.toFixed(2)) : '–'}`
    })
    lines.push(`${g.strategy.padEnd(14)} ${g.workload.padEnd(14)} ${cells.join('   ')}`)
  }
  return lines.join('\n')
}

try {
  const { labId, accel } = await lab.up({ subnet: '198.19.213.0/24', nodes: 2 }, quiet)
  const nodes = core.services.labs.get(labId)!.nodes
  if (args.strategies!.includes('dsm-runtime')) {
    // The runtime is built on the nodes by the MPI wizard, as a user would.
    const setup = await core.services.jobs.wait((await core.handlers['setup.run']({ labId, wizard: 'mpi', dryRun: false, options: {} })).id)
    if (setup.status !== 'succeeded') throw new Error(`MPI wizard: ${JSON.stringify(setup.error)}`)
  }
  /** One experiment job over the matrix, its steps on stderr; the ids of its runs. */
  const experiment = async (tls: boolean): Promise<{ status: string; ids: number[] }> => {
    const job = await core.handlers['experiments.start']({
      labId,
      vm: DEMO_VM,
      from: nodes[0].name,
      to: nodes[1].name,
      strategies: args.strategies!.split(',').map((s) => strategyId.parse(s.trim())),
      workloads: args.workloads!.split(',').map(parseWorkload),
      repetitions: Number(args.reps),
      params: migrationParams.parse({ maxBandwidthMiBs: 1024, multifdChannels: 2, probeIntervalMs: 1, timeoutMs: 120_000, tls, reuseGuest: args.reuse }),
    })
    let last = ''
    const off = core.subscribe((e) => {
      if (e.type === 'job' && e.job.id === job.id && e.job.step !== last) console.error(`  ${(last = e.job.step)}`)
    })
    const done = await core.services.jobs.wait(job.id)
    off()
    return { status: done.status, ids: runIdsOfJob(core.services.db, job.id) }
  }
  const { status, ids } = await experiment(false)
  const comparison = await core.handlers['runs.compare']({ ids })
  console.log(`\nstrategies on the demo lab (${accel}, 256 MiB guest, 1 ms UDP probe, max-bandwidth 1 GiB/s), job ${status}, ${ids.length} runs\n`)
  console.log(resultsTable(comparison))
  console.log(`\nratios against ${comparison.baseline} (same workload):`)
  console.log(ratios(comparison))
  // What a run costs beyond its migration: boot, probe baseline and settle, checks, SSH round trips.
  const runs = ids.map((id) => core.services.runs.list().find((r) => r.id === id)!).filter((r) => r.status === 'succeeded')
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const dsmRuns = runs.filter((r) => r.strategy === 'dsm-runtime')
  for (const w of [...new Set(dsmRuns.map((r) => r.workload))]) {
    // The final sync happens while the guest is stopped: its share of each downtime, run by run (mean of shares).
    const rs = dsmRuns.filter((r) => r.workload === w)
    const share = (key: string) => avg(rs.map((r) => r.metrics.dsm_final_sync_ms / r.metrics[key]))
    console.log(`\ndsm-runtime ${w}: final sync ${avg(rs.map((r) => r.metrics.dsm_final_sync_ms)).toFixed(1)} ms (${(avg(rs.map((r) => r.metrics.dsm_final_bytes)) / 1048576).toFixed(1)} MiB) = ×${share('qemu_downtime_ms').toFixed(2)} of QEMU downtime, ×${share('stop_resume_ms').toFixed(2)} of STOP→RESUME, ×${share('probe_gap_ms').toFixed(2)} of the client gap; runtime bytes ${(avg(rs.map((r) => r.metrics.dsm_bytes)) / 1048576).toFixed(1)} MiB of ${(avg(rs.map((r) => r.metrics.transferred_bytes)) / 1048576).toFixed(1)} MiB sent`)
  }
  const overhead = runs.map((r) => r.metrics.run_wall_ms - r.metrics.wall_ms).filter(Number.isFinite)
  const boot = runs.map((r) => r.metrics.boot_ms).filter(Number.isFinite)
  if (args.tls) {
    // The same matrix with the stream encrypted: what TLS costs, metric by metric (TLS / plain).
    const tls = await experiment(true)
    const plain = (await core.handlers['runs.compare']({ ids })).groups
    const enc = (await core.handlers['runs.compare']({ ids: tls.ids })).groups
    console.log(`\nTLS cost (job ${tls.status}, ${tls.ids.length} runs), TLS / plain per group:`)
    for (const g of enc) {
      const p = plain.find((x) => x.strategy === g.strategy && x.workload === g.workload)
      if (!p) continue
      const cells = RATIOS.map(([m, label]) => `${label} ×${((g.metrics[m]?.mean ?? NaN) / (p.metrics[m]?.mean ?? NaN)).toFixed(2)}`)
      console.log(`${g.strategy.padEnd(14)} ${g.workload.padEnd(14)} ${cells.join('   ')}`)
    }
  }
  console.log(`\nper-run overhead (run wall − migration wall): mean ${(avg(overhead) / 1000).toFixed(2)} s, max ${(Math.max(...overhead) / 1000).toFixed(2)} s — of which guest boot ${(avg(boot) / 1000).toFixed(2)} s (goal ≤ 2 s: ×${(avg(overhead) / 2000).toFixed(2)})`)
} finally {
  const found = core.services.labs.list().find((l) => l.kind === 'demo')
  for (const n of found?.nodes ?? []) await core.services.drivers.qemu.stop(new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host), DEMO_VM).catch(() => undefined)
  await core.close()
  await lab.down(quiet)
  rmSync(dataDir, { recursive: true, force: true })
}
