import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseIpv4Cidr, formatCidr } from '../../shared/cidr'
import { MigLabError } from '../../shared/errors'
import { parsePingPong, pingPongPoints, sizeLabel, type PingPongResult } from '../../shared/pingpong'
import { resourcePath } from '../lab/resources'
import { commandExists } from '../remote/setup'
import { buildPingPong, pingPongBuilt, readPingPong, routeCidr, runPingPong } from '../remote/mpi-bench'
import type { NodeRef, Step, StepContext } from './engine'

/** The shipped C source and the short hash its binary is named after. */
function source(): { text: string; sha: string } {
  const text = readFileSync(resourcePath('mpi/pingpong.c'), 'utf8')
  return { text, sha: createHash('sha256').update(text).digest('hex').slice(0, 12) }
}

const build: Step = {
  id: 'pingpong-build',
  title: 'Ping-pong benchmark compiled (mpicc)',
  scope: 'node',
  async check(ctx, t) {
    const { sha } = source()
    if ((await ctx.exec.run(t.node!, pingPongBuilt(sha), { timeoutMs: 10_000 })).code === 0) return { kind: 'ok', found: `~/.miglab/mpi/pingpong-${sha} built`, facts: { sha } }
    const mpicc = (await ctx.exec.run(t.node!, commandExists('mpicc'), { timeoutMs: 10_000 })).code === 0
    return { kind: 'change', found: `no ping-pong binary for source ${sha}${mpicc ? '' : ' (mpicc not installed yet: the packages step brings it)'}`, change: 'copy resources/mpi/pingpong.c to the node and compile it with mpicc', facts: { sha } }
  },
  plan: (_ctx, t) => {
    const { text, sha } = source()
    return [{ node: t.node!, command: buildPingPong(sha), asRoot: false, input: async () => text, timeoutMs: 120_000 }]
  },
  explain: (err, t) =>
    new MigLabError('mpi_build_failed', `Compiling the ping-pong benchmark on node ${t.node!.name} failed.`, {
      ...err.detail,
      hint: 'mpicc comes with the OpenMPI development package (libopenmpi-dev / openmpi-devel); the compiler error is above.',
    }),
}

/** The lab subnet as the head node routes to the second node: MPI's traffic stays on it. */
async function labSubnet(ctx: StepContext, head: NodeRef, other: NodeRef): Promise<string | undefined> {
  const r = await ctx.exec.run(head, routeCidr(other.host), { timeoutMs: 10_000 })
  const cidr = r.code === 0 ? parseIpv4Cidr(r.stdout.trim()) : undefined
  return cidr && formatCidr(cidr)
}

/** The stored output, when it came from this source on this subnet. */
export function readResult(stdout: string, sha: string, subnet: string): PingPongResult | undefined {
  const head = /^# miglab-pingpong sha=(\S+) subnet=(\S+) at=(\S+)$/m.exec(stdout)
  if (!head || head[1] !== sha || head[2] !== subnet) return undefined
  const { samples, ranks } = parsePingPong(stdout)
  return samples.length > 0 ? { samples, ranks, command: '', at: head[3] } : undefined
}

/** One line a person reads: the smallest message's latency, the best bandwidth, where the ranks ran. */
export function summary(r: PingPongResult): string {
  const points = pingPongPoints(r.samples)
  const small = points[0]
  const best = points.reduce((a, b) => (b.bandwidthGBps > a.bandwidthGBps ? b : a))
  return `${sizeLabel(small.bytes)}: ${small.latencyUs.toFixed(1)} µs; ${sizeLabel(best.bytes)}: ${best.bandwidthGBps.toFixed(2)} GB/s (ranks on ${r.ranks.join(', ') || 'unknown hosts'})`
}

const run: Step = {
  id: 'pingpong',
  title: 'Ping-pong benchmark across the nodes (latency, bandwidth)',
  scope: 'lab',
  async check(ctx, t) {
    if (t.nodes.length < 2) return { kind: 'not_checkable', reason: 'the lab has one node; a ping-pong needs two' }
    const head = t.nodes[0]
    const subnet = await labSubnet(ctx, head, t.nodes[1])
    if (!subnet) return { kind: 'not_checkable', reason: `${head.name} has no route to ${t.nodes[1].host}, so the lab subnet MPI must stay on is unknown` }
    const { sha } = source()
    const command = runPingPong({ sha, subnet, ranks: t.nodes.length, sshPort: t.nodes[1].port, root: head.user === 'root' }).text
    const stored = readResult((await ctx.exec.run(head, readPingPong(), { timeoutMs: 10_000 })).stdout, sha, subnet)
    if (stored) return { kind: 'ok', found: summary(stored), facts: { pingpong: { ...stored, command }, subnet } }
    return { kind: 'change', found: `no ping-pong result on ${head.name} for this benchmark on ${subnet}`, change: `run the ping-pong with mpirun from ${head.name}, one rank per node, TCP on ${subnet} only`, facts: { sha, subnet } }
  },
  plan(_ctx, t, finding) {
    const head = t.nodes[0]
    const { sha, subnet } = finding.facts as { sha: string; subnet: string }
    return [{ node: head, command: runPingPong({ sha, subnet, ranks: t.nodes.length, sshPort: t.nodes[1].port, root: head.user === 'root' }), asRoot: false, timeoutMs: 180_000 }]
  },
  explain(err, t) {
    const stderr = err.detail?.stderrTail ?? ''
    const trust = /Host key verification failed|Permission denied|could not be found|ORTE was unable to reliably start/i.test(stderr)
    return new MigLabError('mpi_pingpong_failed', `mpirun on ${t.nodes[0].name} could not run the ping-pong across the nodes.`, {
      ...err.detail,
      hint: trust
        ? `The head node could not start the remote rank over SSH: check the SSH trust step (Check again), and that ${t.nodes.slice(1).map((n) => n.name).join(', ')} answer on the lab subnet.`
        : 'Read mpirun’s message above; the hostfile and rankfile are in ~/.miglab/mpi on the head node.',
    })
  },
}

/** Compile on every node, then run across them; the figures are stored with the step's result. */
export const pingPongSteps: Step[] = [build, run]
