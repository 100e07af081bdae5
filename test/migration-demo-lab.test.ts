import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { QemuDriver } from '../src/main/hypervisors/qemu/driver'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import { DemoLab, type StepReporter } from '../src/main/lab/demo-lab'
import { checkPrerequisites } from '../src/main/lab/prereqs'
import { DEMO_VM } from '../src/main/migration/demo-vm'
import { nodeKey } from '../src/main/ssh/targets'
import { toApiError } from '../src/shared/errors'
import { tempDir } from './helpers'

// The whole path for real: demo-lab namespaces, SSH to each node's sshd (the pool), QMP through
// OpenSSH unix-socket forwarding, the lab's Linux guest with its UDP echo, the probe from here.
// Own prefix and subnet: a user's (or a colleague's) demo lab on this host is never touched.
const PREFIX = 'mgmig'
const SUBNET = '198.19.211.0/24'
const COLLEAGUE_CACHE = '/tmp/mlab-dev/demo-lab/cache'

const reason = (() => {
  try {
    checkPrerequisites()
    return undefined
  } catch (err) {
    return toApiError(err).message
  }
})()
if (reason) console.warn(`Migration over the demo lab SKIPPED: ${reason}`)

const quiet: StepReporter = { progress: () => {}, checkCancelled: () => {} }
const dataDir = tempDir()
const runDir = '/run/miglab'
let core: Core
let demo: DemoLab
let labId: number

const ourQemus = (): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${runDir}/${PREFIX}-`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z')
      } catch {
        return false
      }
    })
    .map(Number)

describe.skipIf(!!reason)('migration over the demo lab through real SSH', () => {
  beforeAll(async () => {
    process.env.MIGLAB_DEMO_PREFIX = PREFIX
    // Reuse a guest image already built on this host (saves the kernel download); a copy, never shared.
    if (existsSync(COLLEAGUE_CACHE)) cpSync(COLLEAGUE_CACHE, join(dataDir, 'demo-lab', 'cache'), { recursive: true })
    core = createCore({ dataDir, door: 'browser' })
    demo = new DemoLab({ dataDir, labs: core.services.labs, hostKeys: core.services.hostKeys, prefix: PREFIX })
    labId = (await demo.up({ subnet: SUBNET, nodes: 2 }, quiet)).labId
  }, 240_000)

  afterAll(async () => {
    const lab = core?.services.labs.get(labId)
    if (lab) {
      const driver = new QemuDriver({ runDir })
      for (const n of lab.nodes) await driver.stop(new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host), DEMO_VM).catch(() => undefined)
      await driver.close()
    }
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
    await core?.close()
    await demo?.down(quiet)
    delete process.env.MIGLAB_DEMO_PREFIX
  }, 120_000)

  it('lists capabilities, runs pre-copy and DSM on the Linux guest, and measures all three downtimes', async () => {
    const caps = await core.handlers['migration.capabilities']({ labId })
    expect(caps.filter((c) => !c.supported)).toEqual([])
    const lab = core.services.labs.get(labId)!
    const [a, b] = lab.nodes.map((n) => n.name)
    const job = await core.handlers['experiments.start']({
      labId,
      vm: DEMO_VM,
      from: a,
      to: b,
      strategies: ['precopy', 'dsm'],
      workloads: [{ kind: 'dirty', bufferMiB: 64, rateMiBs: 50 }],
      repetitions: 1,
      params: { maxBandwidthMiBs: 1024, multifdChannels: 2, probeIntervalMs: 1, timeoutMs: 120_000 },
    })
    const done = await core.services.jobs.wait(job.id)
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
    const runs = (await core.handlers['runs.list']({ labId })).reverse()
    expect(runs.map((r) => [r.strategy, r.status])).toEqual([
      ['precopy', 'succeeded'],
      ['dsm', 'succeeded'],
    ])
    for (const r of runs) {
      expect(r.metrics.qemu_downtime_ms).toBeGreaterThan(0)
      expect(r.metrics.stop_resume_ms).toBeGreaterThan(0)
      // The client sees the guest answer again only after RESUME (LAB-RECIPE: gap > QEMU downtime).
      expect(r.metrics.probe_gap_ms).toBeGreaterThan(r.metrics.qemu_downtime_ms)
      expect(r.metrics.probe_sent).toBeGreaterThan(100)
      expect(r.metrics.src_tx_bytes).toBeGreaterThan(0)
    }
    const [pre, dsm] = runs
    expect(pre.metrics.transferred_bytes).toBeGreaterThan(64 * 1024 * 1024)
    expect(pre.metrics.src_tx_bytes).toBeGreaterThan(pre.metrics.transferred_bytes * 0.9)
    expect(dsm.metrics.transferred_bytes).toBeLessThan(pre.metrics.transferred_bytes * 0.05)
    const vms = await core.handlers['vms.list']({ labId })
    expect(vms.map((v) => [v.name, v.node, v.state])).toEqual([[DEMO_VM, b, 'running']])
    console.log(JSON.stringify(runs.map((r) => ({ strategy: r.strategy, ...r.metrics })), null, 1))
  }, 240_000)
})
