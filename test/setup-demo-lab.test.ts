import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { nodeMiglabDir } from '../src/main/lab/sshd'
import { nodeRefs } from '../src/main/handlers/setup'
import { runWizard, type Progress } from '../src/main/setup/engine'
import { mpiWizard } from '../src/main/setup/mpi'
import { NFS } from '../src/main/setup/nfs'
import { poolExec } from '../src/main/setup/pool-exec'
import { SetupStepsRepo } from '../src/main/store/setup-steps'
import type { SetupRunReport } from '../src/shared/contract/setup'
import { asPingPong, pingPongPoints } from '../src/shared/pingpong'
import { demoLabSkipReason, quiet, seedGuestCache } from './fixtures/demo-lab'
import { callerOf, runSetupJob, tempDir } from './helpers'

// The MPI and NFS wizards on the real demo lab: two network-namespace nodes with their own sshd, real
// OpenMPI between them, a real NFS-Ganesha in node 1's namespace read by libnfs from node 2.
const PREFIX = 'mlws'
const SUBNET = '198.19.212.0/24'
const reason = demoLabSkipReason

const dataDir = tempDir()
let core: Core
let labId: number
const call = callerOf(() => core)
const runJob = (input: unknown): Promise<SetupRunReport> => runSetupJob(core, input)
const key = (r: SetupRunReport) => r.steps.map((s) => `${s.step}@${s.node ?? 'lab'}:${s.outcome}`)

/** Pids living in a node's network namespace whose command is `name`. */
function pidsIn(namespace: string, name: string): number[] {
  const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number)
  return pids.filter((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === name
    } catch {
      return false
    }
  })
}
const namespaces = () => core.services.demoLab.plan().nodes.map((n) => n.namespace)

const ganeshaConfBefore = existsSync(NFS.ganeshaConf) ? readFileSync(NFS.ganeshaConf, 'utf8') : undefined
const srvBefore = existsSync(NFS.export)

/** What the NFS wizard leaves on this machine (the demo nodes share its files): daemons, config, proof. */
function cleanNfs(): void {
  for (const ns of namespaces()) for (const p of [...pidsIn(ns, 'ganesha.nfsd'), ...pidsIn(ns, 'rpcbind')]) process.kill(p, 'SIGKILL')
  rmSync(NFS.ganeshaExport, { force: true })
  if (ganeshaConfBefore !== undefined) writeFileSync(NFS.ganeshaConf, ganeshaConfBefore)
  rmSync(join(NFS.export, NFS.proof), { force: true })
  if (!srvBefore) rmSync(NFS.export, { recursive: true, force: true })
}

describe.skipIf(!!reason)('MPI and NFS wizards on the demo lab (real sshd, OpenMPI, NFS-Ganesha, libnfs)', () => {
  beforeAll(async () => {
    seedGuestCache(dataDir)
    core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    labId = (await core.services.demoLab.up({ subnet: SUBNET, nodes: 2 }, quiet)).labId
  }, 240_000)

  afterEach(() => cleanNfs())

  afterAll(async () => {
    await core?.close()
    await core?.services.demoLab.down(quiet)
    rmSync(dataDir, { recursive: true, force: true })
  }, 120_000)

  it('MPI: apply runs the ping-pong across both nodes (one rank each); latency and bandwidth per size come from the stored raw lines; a second run is already done', async () => {
    const applied = await runJob({ labId, wizard: 'mpi' })
    expect(applied.ok).toBe(true)
    const pp = applied.steps.find((s) => s.step === 'pingpong')!
    expect(pp.outcome).toBe('applied')
    expect(pp.commands[0]).toMatch(/--mca btl_tcp_if_include "\$2" --mca oob_tcp_if_include "\$2".* sh [0-9a-f]{12} 198\.19\.212\.0\/24 2 ''/s)
    const result = asPingPong(pp.facts)!
    expect(result.ranks).toEqual(['mlws-n1', 'mlws-n2']) // each rank on its own node
    const points = pingPongPoints(result.samples)
    expect(points.map((p) => p.bytes)).toEqual([8, 32, 128, 512, 2048, 8192, 32768, 131072, 524288, 2097152])
    for (const p of points) expect(p.latencyUs).toBeGreaterThan(0)
    // Big messages move more bytes per second than 8-byte ones: the figures are a real transfer's.
    expect(points.at(-1)!.bandwidthGBps).toBeGreaterThan(points[0].bandwidthGBps * 10)
    console.log(`ping-pong on the demo lab: ${pp.found}`)

    const stored = (await call('setup.list', { labId })).find((w) => w.id === 'mpi')!
    expect(stored.state).toBe('done')
    expect(asPingPong(stored.steps.find((s) => s.step === 'pingpong')!.facts)?.samples).toEqual(result.samples)
    const again = await runJob({ labId, wizard: 'mpi' })
    // Grappa is optional and no source was given: skipped, with the reason.
    expect(again.steps.filter((s) => s.outcome !== 'already_done').map((s) => `${s.step}@${s.node}:${s.outcome}`)).toEqual(['grappa@mlws-n1:skipped', 'grappa@mlws-n2:skipped'])
    expect(asPingPong(again.steps.find((s) => s.step === 'pingpong')!.facts)?.samples).toEqual(result.samples) // not run again
  }, 240_000)

  it('NFS: Ganesha in node 1’s namespace exports to node 2 only; node 2 reads the random file over libnfs with the same sha256; a second run is already done', async () => {
    const dry = await runJob({ labId, wizard: 'nfs', dryRun: true })
    expect(dry.steps.find((s) => s.step === 'export')!.commands.join('\n')).toContain('ganesha.nfsd -f "$1"')
    const applied = await runJob({ labId, wizard: 'nfs' })
    expect(key(applied)).toEqual(['server-packages@lab:already_done', 'export@lab:applied', 'client@mlws-n1:already_done', 'client@mlws-n2:already_done', 'proof@lab:applied'])
    expect(readFileSync(NFS.ganeshaExport, 'utf8')).toContain('CLIENT { Clients = 198.19.212.12; Access_Type = RW; }')
    const [ns1, ns2] = namespaces()
    expect(pidsIn(ns1, 'ganesha.nfsd')).toHaveLength(1)
    expect(pidsIn(ns2, 'ganesha.nfsd')).toHaveLength(0)
    const proof = applied.steps.find((s) => s.step === 'proof')!
    const written = proof.facts!.sha256 as string
    expect(written).toBe(execFileSync('sha256sum', [join(NFS.export, NFS.proof)], { encoding: 'utf8' }).split(' ')[0])
    const read = proof.facts!['mlws-n2'] as { sha256: string; mibPerS: number }
    expect(read.sha256).toBe(written)
    expect(read.mibPerS).toBeGreaterThan(0)
    console.log(`NFS proof on the demo lab: ${proof.found}`)
    const again = await runJob({ labId, wizard: 'nfs' })
    expect(again.steps.every((s) => s.outcome === 'already_done')).toBe(true)
  }, 240_000)

  it('sshd of node 2 killed mid-wizard: the error names node and step; after `lab up` repairs it, resume finishes without applying the finished steps again', async () => {
    await runJob({ labId, wizard: 'mpi' }) // a known start: everything done
    // Work left for the resume: node 2's benchmark binary and the head node's result are gone.
    const [n1, n2] = core.services.demoLab.plan().nodes
    const mpiDir = (n: typeof n1) => join(nodeMiglabDir(core.services.demoLab.paths, n), 'mpi')
    for (const f of readdirSync(mpiDir(n2))) if (f.startsWith('pingpong-')) rmSync(join(mpiDir(n2), f))
    rmSync(join(mpiDir(n1), 'pingpong.out'))
    const lab = core.services.labs.get(labId)!
    const store = new SetupStepsRepo(core.services.db)
    const lines: string[] = []
    // The moment the wizard reaches node 2's build, every sshd of node 2 dies (listener and sessions).
    const progress: Progress = {
      progress: (_f, step) => {
        if (step === `Ping-pong benchmark compiled (mpicc) on ${n2.name}`) for (const p of pidsIn(n2.namespace, 'sshd')) process.kill(p, 'SIGKILL')
      },
      log: (_l, m) => lines.push(m),
      checkCancelled: () => {},
    }
    const failed = await runWizard(mpiWizard, { labId, nodes: nodeRefs(core.services, lab), dryRun: false }, { exec: poolExec(core.services.ssh), store, progress })
    expect(failed.ok).toBe(false)
    const bad = failed.steps.find((s) => s.outcome === 'failed')!
    expect(bad.error!.message).toMatch(/^Ping-pong benchmark compiled \(mpicc\) on node mlws-n2: /)
    expect(bad.error!.detail?.hint).toMatch(/run the wizard again: it resumes here/)
    console.log(`sshd killed: ${bad.error!.message}${bad.error!.detail?.hint ? ` — fix: ${bad.error!.detail.hint}` : ''}`)
    expect(failed.steps.find((s) => s.step === 'pingpong')!.outcome).toBe('not_run')
    expect((await call('setup.list', { labId })).find((w) => w.id === 'mpi')!.state).toBe('partial')

    await core.services.demoLab.up({}, quiet) // repairs node 2's sshd
    const resumed = await runJob({ labId, wizard: 'mpi' })
    const rows = store.list(labId, 'mpi')
    const at = (step: string, node: string | null) => rows.find((r) => r.step === step && r.node === node)!
    // Finished before the failure: found done, nothing applied again.
    for (const [step, node] of [['packages', 'mlws-n1'], ['packages', 'mlws-n2'], ['version', 'mlws-n1'], ['version', 'mlws-n2'], ['ssh-trust', null], ['hostfile', null], ['pingpong-build', 'mlws-n1']] as const) {
      expect(at(step, node)).toMatchObject({ outcome: 'already_done', commands: [] })
    }
    expect(at('pingpong-build', 'mlws-n2').outcome).toBe('applied')
    expect(at('pingpong', null).outcome).toBe('applied')
    expect(resumed.ok).toBe(true)
    expect((await call('setup.list', { labId })).find((w) => w.id === 'mpi')!.state).toBe('done')
  }, 300_000)
})
