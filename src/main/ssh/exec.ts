import type { Readable } from 'node:stream'
import { MigLabError } from '../../shared/errors'
import { killGroup, reportingPid, sudo, type RemoteCommand } from '../remote/command'
import type { SshPool } from './pool'

export interface ExecOptions {
  /** Kill the remote command after this long and fail with 'remote_timeout'. */
  timeoutMs?: number
  /** Abort kills the remote command and fails with 'cancelled'. */
  signal?: AbortSignal
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
  /** Written to the command's stdin, which then ends; a stream is piped and ends when it does. */
  stdin?: string | Buffer | Readable
  /** Run as root: through sudo unless the node user is root, with the node's password on stdin. */
  sudo?: boolean
}

export interface ExecResult {
  /** Exit status, or null when a signal ended the command. */
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
}

/** Seconds between SIGTERM and SIGKILL when cancelling. */
const KILL_GRACE_S = 2

/** Runs `command` on the node. A non-zero exit is a result, not an error; see `execOk`. */
export async function exec(pool: SshPool, nodeKey: string, command: RemoteCommand, opts: ExecOptions = {}): Promise<ExecResult> {
  return run(pool, nodeKey, command, opts, 'session')
}

/** Like `exec`, but a non-zero exit throws 'remote_failed' with the command and its stderr tail. */
export async function execOk(pool: SshPool, nodeKey: string, command: RemoteCommand, opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await exec(pool, nodeKey, command, opts)
  if (r.code !== 0) {
    throw new MigLabError('remote_failed', `Command failed on node ${nodeKey} (${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}).`, {
      command: command.text,
      exitCode: r.code,
      signal: r.signal,
      stderrTail: r.stderr.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-20).join('\n'),
    })
  }
  return r
}

async function run(pool: SshPool, nodeKey: string, command: RemoteCommand, opts: ExecOptions, kind: 'session' | 'control'): Promise<ExecResult> {
  if (opts.signal?.aborted) throw cancelled(nodeKey, command)
  const asRoot = opts.sudo === true && pool.target(nodeKey).user !== 'root'
  const password = asRoot ? pool.password(nodeKey) : undefined
  const body = asRoot ? sudo(command, { password: password !== undefined }) : command
  const ch = await pool.channel(nodeKey, kind, (c, cb) => c.exec(reportingPid(body).text, cb))

  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = []
    const err: Buffer[] = []
    let head = Buffer.alloc(0) // stderr until the PID line is complete
    let pgid: number | undefined
    let code: number | null = null
    let signal: string | null = null
    let stopping: MigLabError | undefined
    let backstop: NodeJS.Timeout | undefined

    const kill = (): void => {
      run(pool, nodeKey, killGroup(pgid!, KILL_GRACE_S), { sudo: asRoot }, 'control').catch(() => ch.close())
    }
    const stop = (why: MigLabError): void => {
      if (stopping) return
      stopping = why
      if (pgid !== undefined) kill() // otherwise as soon as the PID arrives
      // If the kill cannot be delivered, at least free the channel.
      backstop = setTimeout(() => ch.close(), (KILL_GRACE_S + 5) * 1000)
    }
    const onAbort = (): void => stop(cancelled(nodeKey, command))
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              stop(
                new MigLabError('remote_timeout', `Command on node ${nodeKey} did not finish within ${opts.timeoutMs} ms; it was killed.`, {
                  command: command.text,
                  timeoutMs: opts.timeoutMs,
                }),
              ),
            opts.timeoutMs,
          )
    opts.signal?.addEventListener('abort', onAbort, { once: true })

    ch.on('data', (chunk: Buffer) => {
      out.push(chunk)
      opts.onStdout?.(chunk)
    })
    ch.stderr.on('data', (chunk: Buffer) => {
      if (pgid === undefined) {
        head = Buffer.concat([head, chunk])
        const nl = head.indexOf(10)
        if (nl < 0) return
        pgid = Number(head.subarray(0, nl).toString())
        chunk = head.subarray(nl + 1)
        if (stopping) kill()
        if (chunk.length === 0) return
      }
      err.push(chunk)
      opts.onStderr?.(chunk)
    })
    ch.on('exit', (c: number | null, s?: string) => {
      code = c ?? null
      signal = s ?? null
    })
    // The close event carries the exit status too: a command that ends at once can deliver its
    // exit-status in the same packet as the open reply, before the 'exit' listener above exists.
    ch.on('close', (c?: number | null, s?: string) => {
      if (code === null && signal === null) {
        code = typeof c === 'number' ? c : null
        signal = typeof s === 'string' ? s : null
      }
      clearTimeout(timer)
      clearTimeout(backstop)
      opts.signal?.removeEventListener('abort', onAbort)
      if (stopping) return reject(stopping)
      if (code === null && signal === null) {
        return reject(new MigLabError('connection_lost', `The connection to node ${nodeKey} dropped while a command ran.`, { command: command.text }))
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
    })

    // sudo -S reads the password line first; the command gets the rest. Always end stdin so
    // commands that read it see EOF instead of waiting forever.
    if (password !== undefined) ch.write(`${password}\n`)
    if (typeof opts.stdin === 'object' && !Buffer.isBuffer(opts.stdin)) opts.stdin.pipe(ch)
    else ch.end(opts.stdin)
  })
}

const cancelled = (nodeKey: string, command: RemoteCommand): MigLabError =>
  new MigLabError('cancelled', `Command on node ${nodeKey} was cancelled; it was killed.`, { command: command.text })
