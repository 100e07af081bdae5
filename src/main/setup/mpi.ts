import { MigLabError } from '../../shared/errors'
import { appendLineOnce, ensureKeyPair, mpiVersion, nprocOnline, readMpiFile, readPublicKey, sshTrustProbe, writeMpiFile } from '../remote/setup'
import type { NodeRef, PlannedCommand, Step, Wizard } from './engine'
import { grappaStep } from './grappa'
import { pingPongSteps } from './mpi-pingpong'
import { dsmRuntimeSource } from '../lab/resources'
import { buildDsmRuntime, dsmRuntimeStatus } from '../remote/dsm'
import { packagesStep } from './packages'

const packages = packagesStep('packages', 'OpenMPI packages', { apt: ['openmpi-bin', 'libopenmpi-dev'], dnf: ['openmpi', 'openmpi-devel'] })

const version: Step = {
  id: 'version',
  title: 'mpirun answering, version recorded',
  scope: 'node',
  async check(ctx, t) {
    const r = await ctx.exec.run(t.node!, mpiVersion(), { timeoutMs: 20_000 })
    if (r.code !== 0) return { kind: 'not_checkable', reason: `mpirun does not run on ${t.node!.name} (the packages step installs it): ${r.stderr.trim().slice(-200)}` }
    const m = /\(Open MPI\)\s+(\S+)/.exec(r.stdout)
    return m ? { kind: 'ok', found: `Open MPI ${m[1]}`, facts: { openmpi: m[1] } } : { kind: 'not_checkable', reason: `mpirun on ${t.node!.name} is not Open MPI: ${r.stdout.split('\n')[0]}` }
  },
}

/** `[host]:port` as known_hosts spells a non-22 port. */
const knownHostsName = (n: NodeRef): string => (n.port === 22 ? n.host : `[${n.host}]:${n.port}`)

/**
 * The head node (the lab's first) reaches every other node as the same user with its own key and
 * a host key pinned from MigLab's own verified record of that node — never by trusting whatever
 * answers first, never StrictHostKeyChecking=no.
 */
const trust: Step = {
  id: 'ssh-trust',
  title: 'SSH trust from the head node (keys, pinned host keys)',
  scope: 'lab',
  async check(ctx, t) {
    if (t.nodes.length < 2) return { kind: 'not_checkable', reason: 'the lab has one node; an MPI cluster needs two' }
    const head = t.nodes[0]
    const missing: string[] = []
    for (const to of t.nodes.slice(1)) {
      const r = await ctx.exec.run(head, sshTrustProbe(to.user, to.host, to.port), { timeoutMs: 20_000 })
      if (r.code !== 0) missing.push(to.name)
    }
    const pub = (await ctx.exec.run(head, readPublicKey(), { timeoutMs: 10_000 })).stdout.trim()
    const facts = { head: head.name, missing, hasKey: pub !== '' }
    if (missing.length === 0) return { kind: 'ok', found: `${head.name} reaches ${t.nodes.slice(1).map((n) => n.name).join(', ')} with its key, host keys pinned`, facts }
    return { kind: 'change', found: `${head.name} cannot log in to ${missing.join(', ')} with a key${pub ? '' : ` (${head.name} has no key yet)`}`, change: `${pub ? '' : `generate ${head.name}'s key, `}authorise it on ${missing.join(', ')}, pin their host keys on ${head.name}`, facts }
  },
  plan(ctx, t, finding) {
    const head = t.nodes[0]
    const missing = new Set(finding.facts!.missing as string[])
    const headKey = async (): Promise<string> => {
      const pub = (await ctx.exec.run(head, readPublicKey(), { timeoutMs: 10_000 })).stdout.trim()
      if (!pub) throw new MigLabError('setup_key_missing', `${head.name} has no public key after generating one.`)
      return `${pub}\n`
    }
    const out: PlannedCommand[] = []
    if (!finding.facts!.hasKey) out.push({ node: head, command: ensureKeyPair(`miglab-mpi@${head.name}`), asRoot: false })
    for (const to of t.nodes.filter((n) => missing.has(n.name))) {
      if (!to.hostKey) {
        throw new MigLabError('host_key_unknown', `MigLab has no pinned host key for ${to.name}, so it cannot pin it on ${head.name}.`, { hint: `Connect to ${to.name} once and accept its host key, then run the wizard again.` })
      }
      const line = `${knownHostsName(to)} ${to.hostKey}\n`
      out.push({ node: to, command: appendLineOnce('authorized_keys'), asRoot: false, input: headKey })
      out.push({ node: head, command: appendLineOnce('known_hosts'), asRoot: false, input: async () => line })
    }
    return out
  },
}

/** One rank per node, each pinned to its own core: rank i on core i (mod the node's cores). */
export function mpiFiles(nodes: { host: string; cpus: number }[]): { hostfile: string; rankfile: string } {
  return {
    hostfile: nodes.map((n) => `${n.host} slots=1\n`).join(''),
    rankfile: nodes.map((n, i) => `rank ${i}=${n.host} slot=${i % Math.max(1, n.cpus)}\n`).join(''),
  }
}

const files: Step = {
  id: 'hostfile',
  title: 'Hostfile and rankfile (one rank per node, distinct cores)',
  scope: 'lab',
  async check(ctx, t) {
    const head = t.nodes[0]
    const cpus = await Promise.all(t.nodes.map(async (n) => Number((await ctx.exec.run(n, nprocOnline(), { timeoutMs: 10_000 })).stdout.trim()) || 1))
    const want = mpiFiles(t.nodes.map((n, i) => ({ host: n.host, cpus: cpus[i] })))
    const have = {
      hostfile: (await ctx.exec.run(head, readMpiFile('hostfile'), { timeoutMs: 10_000 })).stdout,
      rankfile: (await ctx.exec.run(head, readMpiFile('rankfile'), { timeoutMs: 10_000 })).stdout,
    }
    const facts = { ...want }
    if (have.hostfile === want.hostfile && have.rankfile === want.rankfile) return { kind: 'ok', found: `~/.miglab/mpi/hostfile and rankfile on ${head.name}: ${t.nodes.length} ranks on distinct cores`, facts }
    return { kind: 'change', found: have.hostfile || have.rankfile ? `the files on ${head.name} differ from the lab's nodes` : `no hostfile/rankfile on ${head.name}`, change: `write ~/.miglab/mpi/hostfile and rankfile on ${head.name}`, facts }
  },
  plan(_ctx, t, finding) {
    const head = t.nodes[0]
    return [
      { node: head, command: writeMpiFile('hostfile'), asRoot: false, input: async () => finding.facts!.hostfile as string },
      { node: head, command: writeMpiFile('rankfile'), asRoot: false, input: async () => finding.facts!.rankfile as string },
    ]
  },
}

/** MigLab's DSM runtime (resources/dsm), compiled on the node with mpicc; rebuilt when the shipped source changes. */
const dsmRuntime: Step = {
  id: 'dsm-runtime',
  title: 'Build the DSM runtime (mpicc)',
  scope: 'node',
  async check(ctx, t) {
    const { sha256 } = dsmRuntimeSource()
    const have = (await ctx.exec.run(t.node!, dsmRuntimeStatus(), { timeoutMs: 15_000 })).stdout.trim()
    if (have === 'no-mpi') return { kind: 'not_checkable', reason: `mpirun is missing on ${t.node!.name} (the packages step installs it)` }
    const facts = { sha256 }
    if (have === sha256) return { kind: 'ok', found: `~/.miglab/dsm/miglab-dsm built from the shipped source (${sha256.slice(0, 12)})`, facts }
    return { kind: 'change', found: have ? `built from another source (${have.slice(0, 12)})` : 'not built', change: 'compile resources/dsm/miglab-dsm.c with mpicc into ~/.miglab/dsm', facts }
  },
  plan(_ctx, t) {
    const src = dsmRuntimeSource()
    return [{ node: t.node!, command: buildDsmRuntime(src.sha256), asRoot: false, input: async () => src.text, timeoutMs: 120_000 }]
  },
}

export const mpiWizard: Wizard = {
  id: 'mpi',
  title: 'MPI cluster (OpenMPI)',
  about: 'OpenMPI on every node, SSH trust from the head node with pinned host keys, a hostfile and rankfile with one rank per node on distinct cores, MigLab\'s DSM runtime built on every node, then a ping-pong benchmark (latency, bandwidth per message size) across the nodes.',
  steps: [packages, version, trust, files, dsmRuntime, ...pingPongSteps, grappaStep],
}
