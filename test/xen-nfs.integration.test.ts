import { describe, expect, it } from 'vitest'
import type { Core } from '../src/main/core'
import { diskPath } from '../src/main/hypervisors/xen-xl/domain-config'
import type { XenLabUpResult } from '../src/main/lab/xen/xen-lab'
import { XEN_VM } from '../src/main/lab/xen/xen-lab'
import { fileChecksum } from '../src/main/remote/setup'
import { readConsole } from '../src/main/remote/xl'
import { pollUntil } from '../src/main/util/poll'
import { NFS, parseChecksum } from '../src/main/setup/nfs'
import { migrationParams, type RunDetail } from '../src/shared/contract/migration'
import type { SetupRunReport } from '../src/shared/contract/setup'
import { xenLabPerFile, xenLabSkipReason } from './fixtures/xen-lab'
import { runSetupJob, tempDir } from './helpers'

// Shared storage for real: the NFS wizard on the Xen lab's two dom0s (kernel nfsd on host A, the
// kernel NFS client on host B), then a guest whose disk is a file on that share migrated A → B → A
// with xl. Own prefix and subnet; the dom0 image cache as in the other Xen lab test.
const PREFIX = 'mxn'
const SUBNET = '198.19.219.0/24'
const DISK_BYTES = 4 * 1024 * 1024
// The guest writes 4 MiB of random bytes to its disk (O_DIRECT, then fsync: through blkfront to dom0's
// loop device and on to the share), prints their sha256, then every second reads them back from the
// disk with O_DIRECT (never its own page cache, which migrates with its memory) and prints that sha256.
const DISK_WORKLOAD = [
  'while [ ! -b /dev/xvda ]; do sleep 0.2; done',
  `head -c ${DISK_BYTES} /dev/urandom >/tmp/d`,
  'dd if=/tmp/d of=/dev/xvda bs=1M oflag=direct conv=fsync 2>/dev/null && echo "wrote $(sha256sum </tmp/d | cut -c1-64)"',
  `while :; do echo "disk $(dd if=/dev/xvda bs=1M count=${DISK_BYTES / 2 ** 20} iflag=direct 2>/dev/null | sha256sum | cut -c1-64) uptime $(cut -d. -f1 /proc/uptime)"; sleep 1; done`,
].join('\n')

const reason = xenLabSkipReason
const dataDir = tempDir()
let core: Core
let up: XenLabUpResult

const runWizard = async (input: object): Promise<SetupRunReport & { ms: number }> => {
  const t0 = Date.now()
  const report = await runSetupJob(core, { labId: up.labId, wizard: 'nfs', ...input })
  return { ...report, ms: Date.now() - t0 }
}
const key = (r: SetupRunReport) => r.steps.map((s) => `${s.step}@${s.node ?? 'lab'}:${s.outcome}`)
const link = (node: string) => core.services.xenLab.links().find((l) => l.name === node)!

/** The guest's console on that dom0: the sha256 it wrote, and each read-back with the uptime it was read at. */
async function diskLines(node: string): Promise<{ wrote?: string; reads: { sha: string; uptime: number }[] }> {
  const out = (await link(node).exec(readConsole(XEN_VM), { timeoutMs: 30_000 })).stdout
  return {
    wrote: /^wrote ([0-9a-f]{64})/m.exec(out)?.[1],
    reads: [...out.matchAll(/^disk ([0-9a-f]{64}) uptime (\d+)/gm)].map((m) => ({ sha: m[1], uptime: Number(m[2]) })),
  }
}

/** The console's disk lines once the guest has read its disk there after `uptime` (it reads once a second). */
async function readsAfter(node: string, uptime: number): Promise<Awaited<ReturnType<typeof diskLines>>> {
  const seen = await pollUntil(async () => {
    const d = await diskLines(node)
    const reads = d.reads.filter((r) => r.uptime > uptime)
    return reads.length > 0 ? { ...d, reads } : undefined
  }, { timeoutMs: 30_000, intervalMs: 1000 })
  expect(seen, `no disk read on ${node}'s console after uptime ${uptime}`).toBeDefined()
  return seen!
}

async function migrate(from: string, to: string): Promise<RunDetail> {
  const job = await core.handlers['experiments.start']({
    labId: up.labId,
    vm: XEN_VM,
    from,
    to,
    strategies: ['precopy'],
    workloads: [{ kind: 'custom', command: DISK_WORKLOAD }],
    repetitions: 1,
    params: migrationParams.parse({ probeIntervalMs: 10, reuseGuest: true, timeoutMs: 600_000, sharedDiskDir: NFS.mount }),
  })
  const done = await core.services.jobs.wait(job.id)
  expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
  const [id] = (done.result as { runIds: number[] }).runIds
  const run = await core.handlers['runs.get']({ id })
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded')
  return run
}

describe.skipIf(!!reason)('the Xen demo lab with shared storage: kernel NFS between the dom0s, the guest disk on it, xl migrate', () => {
  xenLabPerFile({ dataDir, prefix: PREFIX, subnet: SUBNET }, (c, u) => {
    core = c
    up = u
  })

  it('NFS wizard: the dry run shows kernel nfsd, a bind mount on the server and a kernel mount on the client; apply proves the bytes cross; a second run is already done', async () => {
    const [a, b] = core.services.labs.get(up.labId)!.nodes
    const dry = await runWizard({ dryRun: true })
    const commands = (step: string, node: string | null) => dry.steps.find((s) => s.step === step && s.node === node)!.commands.join('\n')
    // The packages are in the dom0 image (the lab's hosts reach no mirror): nothing to install.
    expect(dry.steps.find((s) => s.step === 'server-packages')!.outcome).toBe('already_done')
    expect(commands('export', null)).toContain('exportfs -ra')
    expect(commands('export', null)).toContain('rpc.nfsd')
    expect(commands('client', a.name)).toContain(`mount --bind -- ${NFS.export} ${NFS.mount}`)
    expect(commands('client', b.name)).toContain(`mount -t nfs -- ${a.host}:${NFS.export} ${NFS.mount}`)

    const applied = await runWizard({})
    expect(key(applied)).toEqual(['server-packages@lab:already_done', 'export@lab:applied', `client@${a.name}:applied`, `client@${b.name}:applied`, 'proof@lab:applied'])
    const proof = applied.steps.find((s) => s.step === 'proof')!
    const read = proof.facts![b.name] as { sha256: string; mibPerS?: number }
    expect(read.sha256).toBe(proof.facts!.sha256)
    const again = await runWizard({})
    expect(again.steps.every((s) => s.outcome === 'already_done'), key(again).join(', ')).toBe(true)
    expect(again.steps.find((s) => s.step === 'export')!.found).toMatch(/\(kernel nfsd\)$/)
    expect(again.steps.find((s) => s.step === 'client' && s.node === b.name)!.found).toBe(`${NFS.mount} mounts ${a.host}:${NFS.export} (kernel NFS client)`)
    console.log(`NFS wizard on the Xen lab: apply ${(applied.ms / 1000).toFixed(1)} s (export, bind, mount, 16 MiB proof), verify-only run ${(again.ms / 1000).toFixed(1)} s; ${proof.found}`)
  }, 600_000)

  it('a guest with its disk on the share writes 4 MiB on A; after xl migrate A → B it reads the same bytes from the disk, and again after B → A', async () => {
    const [a, b] = core.services.labs.get(up.labId)!.nodes.map((n) => n.name)
    const there = await migrate(a, b)
    const onA = await diskLines(a)
    // On B: reads from the disk (O_DIRECT, through B's NFS mount), continuing A's uptime.
    const onB = await readsAfter(b, -1)
    // Written on A (or, had the migration caught the write, finished on B), printed once.
    const wrote = onA.wrote ?? onB.wrote
    expect(wrote, 'the guest printed no "wrote" line').toBeDefined()
    expect([...onA.reads, ...onB.reads].map((r) => r.sha)).toEqual([...onA.reads, ...onB.reads].map(() => wrote))
    expect(onB.reads[0].uptime).toBeGreaterThanOrEqual(onA.reads.at(-1)?.uptime ?? 0)
    // Both dom0s see one file: A through its bind mount, B over NFS.
    const sums = await Promise.all([a, b].map(async (n) => parseChecksum((await link(n).exec(fileChecksum(diskPath(NFS.mount, XEN_VM)), { timeoutMs: 120_000 })).stdout).sha))
    expect(sums[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(sums[1]).toBe(sums[0])

    const back = await migrate(a, b) // reuseGuest: from where it runs (B) back to A
    expect(back.params).toMatchObject({ from: b, to: a })
    const lastOnB = (await diskLines(b)).reads.at(-1)!.uptime
    const backOnA = (await readsAfter(a, lastOnB)).reads
    expect(backOnA.every((r) => r.sha === wrote)).toBe(true)
    console.log(
      [there, back]
        .map((r) => `disk on NFS, ${r.params.from}→${r.params.to}: gap ${r.metrics.probe_gap_ms?.toFixed(0)} ms, xl total ${r.metrics.total_ms?.toFixed(0)} ms (stream ${r.metrics.xl_stream_ms?.toFixed(0)}, attach ${r.metrics.xl_attach_ms?.toFixed(0)}, start ${r.metrics.xl_start_ms?.toFixed(0)}), src tx ${((r.metrics.src_tx_bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`)
        .join('\n') + `\nread back: wrote ${wrote!.slice(0, 12)}…, ${onA.reads.length} reads on A before, ${onB.reads.length} on B and ${backOnA.length} on A after the return all equal`,
    )
  }, 900_000)
})
