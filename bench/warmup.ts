// The guest's warm-up after RESUME (issue: the client-observed gap, explained): how long the guest takes
// to answer the probe again when paused in place for as long as a switchover (QMP stop, cont) against
// after a migration (the run's packet capture gives `gap_warmup_ms`: first probe at the destination's
// tap → the guest's reply). Prints both and their ratio; never passes or fails.
// Run as root:  npx tsx bench/warmup.ts [--reps 5] [--pause-ms 60]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { migrationParams, parseWorkload } from '../src/shared/contract/migration'
import { createCore } from '../src/main/core'
import type { QemuDriver } from '../src/main/hypervisors/qemu/driver'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import type { StepReporter } from '../src/main/lab/demo-lab'
import { DEMO_ECHO_PORT, DEMO_VM } from '../src/main/migration/demo-vm'
import { UdpProbe } from '../src/main/migration/probe'
import { nodeKey } from '../src/main/ssh/targets'
import { runIdsOfJob } from '../src/main/store/run-detail'

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '5' }, 'pause-ms': { type: 'string', default: '60' } } })
const reps = Number(args.reps)
const pauseMs = Number(args['pause-ms'])
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-bench-'))
const core = createCore({ dataDir, door: 'browser', demoPrefix: 'mgw' })
const quiet: StepReporter = { progress: () => {}, checkCancelled: () => {} }
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const fmt = (xs: number[]) => `mean ${mean(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}), n = ${xs.length}`

try {
  const { labId, accel } = await core.services.demoLab.up({ subnet: '198.19.214.0/24', nodes: 2 }, quiet)
  const nodes = core.services.labs.get(labId)!.nodes
  const links = nodes.map((n) => new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host))
  const { guestIp } = await core.handlers['demo.status']({})

  // Moved: idle pre-copy runs; each run's capture splits its gap.
  const job = await core.handlers['experiments.start']({
    labId,
    vm: DEMO_VM,
    from: nodes[0].name,
    to: nodes[1].name,
    strategies: ['precopy'],
    workloads: [parseWorkload('echo')],
    repetitions: reps,
    params: migrationParams.parse({ maxBandwidthMiBs: 1024, probeIntervalMs: 1, reuseGuest: true }),
  })
  await core.services.jobs.wait(job.id)
  const runs = runIdsOfJob(core.services.db, job.id).map((id) => core.services.runs.list().find((r) => r.id === id)!)
  const moved = runs.map((r) => r.metrics.gap_warmup_ms).filter(Number.isFinite)

  // In place: stop, wait as long as a switchover, cont; the first reply after cont returned. The guest
  // is the one the last run left running (with its echo server), where it is now.
  const where = (await core.handlers['vms.list']({ labId })).find((v) => v.name === DEMO_VM)!.node
  const qmp = await (core.services.drivers.qemu as QemuDriver).qmp(links.find((l) => l.name === where)!, DEMO_VM)
  const t0 = performance.now()
  const clock = () => performance.now() - t0
  const probe = new UdpProbe({ ip: guestIp, port: DEMO_ECHO_PORT }, 1, clock)
  await probe.start()
  await sleep(2000)
  const inPlace: number[] = []
  for (let i = 0; i < reps; i++) {
    await sleep(500)
    await qmp.execute('stop')
    await sleep(pauseMs)
    await qmp.execute('cont')
    const resumed = clock()
    await sleep(1000)
    const first = probe.replies.map((r) => r.receivedAt).filter((t) => t > resumed).sort((a, b) => a - b)[0]
    if (first !== undefined) inPlace.push(first - resumed)
  }
  await probe.stop(0)

  console.log(`guest warm-up on the demo lab (${accel}, 256 MiB guest, 1 ms UDP probe)`)
  console.log(`  paused in place ${pauseMs} ms (RESUME → first reply): ${fmt(inPlace)}   [baseline]`)
  console.log(`  after a pre-copy migration (first probe at the destination's tap → first reply): ${fmt(moved)}   ×${(mean(moved) / mean(inPlace)).toFixed(1)}`)
} finally {
  for (const l of core.services.labs.list().filter((x) => x.kind === 'demo'))
    for (const n of l.nodes) await core.services.drivers.qemu.stop(new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host), DEMO_VM).catch(() => undefined)
  await core.close()
  await core.services.demoLab.down(quiet)
  rmSync(dataDir, { recursive: true, force: true })
}
