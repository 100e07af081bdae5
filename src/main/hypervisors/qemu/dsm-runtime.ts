import { PassThrough } from 'node:stream'
import { MigLabError } from '../../../shared/errors'
import { dsmRuntimeSource } from '../../lab/resources'
import { dsmRuntimeStatus, ipv4Addresses, runDsmRuntime, sshReach } from '../../remote/dsm'
import type { LinkExecResult, NodeLink } from '../node-link'

/** One progress line of the runtime (resources/dsm/miglab-dsm.c prints them as JSON). */
export interface DsmLine {
  event: 'ready' | 'round' | 'final' | 'cancelled'
  round?: number
  pages?: number
  bytes?: number
  ms?: number
  hashMs?: number
  totalBytes?: number
  reason?: string
}

/** The IPv4 network (`a.b.c.d/len`) of the interface that holds `address`, from `ip -o -4 addr` lines. */
export function networkOf(address: string, cidrs: string[]): string | undefined {
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)
  for (const c of cidrs) {
    const [ip, len] = c.trim().split('/')
    if (ip !== address || !len) continue
    const bits = Number(len)
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    const net = (toInt(ip) & mask) >>> 0
    return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${bits}`
  }
  return undefined
}

/**
 * Why the DSM runtime cannot run between these nodes, or undefined: Open MPI and the runtime built
 * from this MigLab's source on every node, SSH trust for mpirun between the first node and the
 * others (one direction is enough: mpirun runs where it can reach the other), and a RAM folder that
 * is each node's own memory (`private` is the coherence proof's verdict on it).
 */
export async function dsmRuntimeUnavailable(nodes: NodeLink[], memoryDir: string, coherence: (dir: string) => Promise<string | undefined>): Promise<string | undefined> {
  const { sha256 } = dsmRuntimeSource()
  const status = await Promise.all(nodes.map(async (n) => (await n.exec(dsmRuntimeStatus(), { timeoutMs: 15_000 })).stdout.trim()))
  const noMpi = nodes.filter((_, i) => status[i] === 'no-mpi').map((n) => n.name)
  if (noMpi.length) return `Open MPI (mpirun) is not installed on ${noMpi.join(', ')}: run the MPI wizard.`
  const unbuilt = nodes.filter((_, i) => status[i] !== sha256).map((n, i) => `${n.name}${status[i] ? ' (built from another version)' : ''}`)
  if (unbuilt.length) return `The DSM runtime is not built from this MigLab's source on ${unbuilt.join(', ')}: run the MPI wizard (step "Build the DSM runtime").`
  const [first, ...rest] = nodes
  for (const other of rest) {
    if (!(await launcherFor(first, other))) return `Neither ${first.name} nor ${other.name} can reach the other over SSH with a key and a pinned host key, as mpirun needs: run the MPI wizard (SSH trust step).`
  }
  const verdict = await coherence(memoryDir)
  if (verdict === undefined) return `${memoryDir} is the same memory on every node: the replica would be the guest's own RAM. Choose a folder in each node's own memory (a node-local tmpfs such as /dev/shm).`
  if (verdict.startsWith('Cannot write')) return verdict
  return undefined
}

/** The node of the pair that can start mpirun (reach the other with a key and a pinned host key), or undefined. */
export async function launcherFor(a: NodeLink, b: NodeLink): Promise<NodeLink | undefined> {
  if ((await a.exec(sshReach(b.address), { timeoutMs: 20_000 })).code === 0) return a
  if ((await b.exec(sshReach(a.address), { timeoutMs: 20_000 })).code === 0) return b
  return undefined
}

/**
 * The runtime across the two nodes of one migration, driven over one SSH exec on the launcher: its
 * stdin carries the commands, its stdout the progress lines. Closing stdin cancels it.
 */
export class DsmRuntime {
  readonly lines: DsmLine[] = []
  readonly done: Promise<LinkExecResult>
  private readonly stdin = new PassThrough()
  private readonly waiters = new Set<() => void>()
  private buffered = ''
  private exited: LinkExecResult | undefined
  /** Kills the remote process group: on the caller's cancel, or when a stop is not obeyed. */
  private readonly kill = new AbortController()

  private constructor(launcher: NodeLink, a: Parameters<typeof runDsmRuntime>[0], onLine: (l: DsmLine) => void, signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.kill.abort(), { once: true })
    this.done = launcher.exec(runDsmRuntime(a), {
      stdin: this.stdin,
      signal: this.kill.signal,
      onStdout: (chunk) => {
        this.buffered += chunk.toString()
        let nl: number
        while ((nl = this.buffered.indexOf('\n')) >= 0) {
          const text = this.buffered.slice(0, nl).trim()
          this.buffered = this.buffered.slice(nl + 1)
          if (!text.startsWith('{')) continue
          try {
            const line = JSON.parse(text) as DsmLine
            this.lines.push(line)
            onLine(line)
          } catch {
            // not a progress line (mpirun's own notices)
          }
        }
        this.wake()
      },
    })
    this.done.then(
      (r) => ((this.exited = r), this.wake()),
      (e: unknown) => ((this.exited = { code: null, stdout: '', stderr: String((e as Error).message) }), this.wake()),
    )
  }

  static async start(o: { from: NodeLink; to: NodeLink; sourceFile: string; replicaFile: string; pauseMs: number; onLine: (l: DsmLine) => void; signal?: AbortSignal }): Promise<DsmRuntime> {
    const launcher = await launcherFor(o.from, o.to)
    if (!launcher) throw new MigLabError('dsm_runtime_unavailable', `Neither ${o.from.name} nor ${o.to.name} can start mpirun on the other (no SSH trust with a pinned host key).`, { hint: 'Run the MPI wizard.' })
    const cidrs = (await o.from.exec(ipv4Addresses(), { timeoutMs: 15_000 })).stdout.split('\n')
    const subnet = networkOf(o.from.address, cidrs)
    if (!subnet) throw new MigLabError('dsm_runtime_unavailable', `Node ${o.from.name} holds no IPv4 address ${o.from.address}, so the lab subnet for MPI is unknown.`, { hint: 'Give the node its lab address as an IPv4 address.' })
    return new DsmRuntime(launcher, { source: o.from.address, destination: o.to.address, subnet, sourceFile: o.sourceFile, replicaFile: o.replicaFile, pauseMs: o.pauseMs }, o.onLine, o.signal)
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** Resolves with the first line (from `from` on) that `match` accepts; rejects if the runtime ends first or after `timeoutMs`. */
  whenLine(match: (l: DsmLine) => boolean, timeoutMs: number, what: string, from = 0): Promise<DsmLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find(match)
        if (found) return finish(() => resolve(found))
        if (this.exited) {
          return finish(() =>
            reject(new MigLabError('dsm_runtime_failed', `The DSM runtime ended (exit ${this.exited!.code ?? 'by signal'}) before ${what}.`, { stderrTail: this.exited!.stderr.trimEnd().split('\n').slice(-12).join('\n') })),
          )
        }
      }
      const timer = setTimeout(() => finish(() => reject(new MigLabError('dsm_runtime_timeout', `The DSM runtime did not report ${what} within ${timeoutMs} ms.`))), timeoutMs)
      const finish = (f: () => void) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        f()
      }
      this.waiters.add(check)
      check()
    })
  }

  send(command: 'final' | 'skip' | 'cancel'): void {
    this.stdin.write(`${command}\n`)
  }

  /** Cancels (end of stdin) unless it already ended, and waits for it to exit (killed after `timeoutMs`); the source file is never touched. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stdin.end()
    const timer = setTimeout(() => this.kill.abort(), timeoutMs)
    await this.done.catch(() => undefined)
    clearTimeout(timer)
  }

  /** Bytes of pages the runtime sent, as it last reported. */
  get totalBytes(): number {
    return this.lines.reduce((m, l) => Math.max(m, l.totalBytes ?? 0), 0)
  }
}
