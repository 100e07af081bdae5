import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { MigLabError } from '../../shared/errors'
import { quote } from '../remote/quote'

export interface RunOptions {
  cwd?: string
  /** File fed to stdin (e.g. cpio's file list). */
  stdinFile?: string
  /** File that receives stdout instead of the result (e.g. an archive). */
  stdoutFile?: string
  timeoutMs?: number
  /** Resolve with the exit code instead of throwing when the command fails. */
  allowFailure?: boolean
  /** Cancel kills the command and everything it started (its own process group), and rejects with `cancelled`. */
  signal?: AbortSignal
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** How an argument array reads in an error message (display only: these commands run without a shell). */
export const displayCommand = (argv: readonly string[]): string => argv.map(quote).join(' ')

const tail = (text: string, lines = 12): string => text.trimEnd().split('\n').slice(-lines).join('\n')

/** Runs one local command from an argument array (no shell); failures become MigLabError with the command and stderr tail. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv
  const stdin = options.stdinFile ? openSync(options.stdinFile, 'r') : 'ignore'
  const stdout = options.stdoutFile ? openSync(options.stdoutFile, 'w') : 'pipe'
  return new Promise<RunResult>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new MigLabError('cancelled', `Cancelled before ${file} started.`))
    const child = spawn(file, args, { cwd: options.cwd, stdio: [stdin, stdout, 'pipe'], detached: options.signal !== undefined })
    let cancelled = false
    const onAbort = () => {
      cancelled = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    let out = ''
    let err = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined
    const fail = (message: string) =>
      reject(new MigLabError('command_failed', message, { command: displayCommand(argv), stderrTail: tail(err) }))
    child.on('error', (e) => {
      clearTimeout(timer)
      fail(`Could not run ${file}: ${e.message}`)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      if (cancelled) return reject(new MigLabError('cancelled', `Cancelled: ${displayCommand(argv.slice(0, 3))} was stopped.`, { command: displayCommand(argv) }))
      const result = { code: code ?? -1, stdout: out, stderr: err }
      if (code === 0 || options.allowFailure) resolve(result)
      else fail(`${displayCommand(argv.slice(0, 5))}${argv.length > 5 ? ' …' : ''} failed (${signal ? `killed by ${signal}` : `exit ${code}`}).`)
    })
  }).finally(() => {
    if (typeof stdin === 'number') closeSync(stdin)
    if (typeof stdout === 'number') closeSync(stdout)
  })
}

/**
 * Starts a long-lived process detached from MigLab (it outlives the CLI), output to `logFile`.
 * Returns its pid; `ip netns exec` and `unshare` exec in place, so it is the daemon's own pid.
 */
export function spawnDaemon(argv: readonly string[], logFile: string): Promise<number> {
  const [file, ...args] = argv
  const log = openSync(logFile, 'a')
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, { detached: true, stdio: ['ignore', log, log] })
    child.once('error', (e) =>
      reject(new MigLabError('command_failed', `Could not start ${file}: ${e.message}`, { command: displayCommand(argv) })),
    )
    child.once('spawn', () => {
      child.unref()
      resolve(child.pid!)
    })
  }).finally(() => closeSync(log))
}
