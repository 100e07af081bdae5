import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs'
import { dirname } from 'node:path'
import { MigLabError } from '../../shared/errors'

const held = new Set<string>()

/** What to say when somebody else holds the lock: the error, given the holder's pid when known. */
export type Busy = (pid: number | undefined) => MigLabError

/**
 * One holder at a time across processes (the app, `miglab serve` and the CLI share the host): one
 * demo-lab `up`/`down`, one migration experiment per VM. The lock is an flock(2) on the lock file, held by a small `flock` child whose stdin is
 * our pipe: the kernel grants it to exactly one process, and releases it when we finish or die
 * (even by SIGKILL: the pipe closes, the child exits), so there is no stale lock to guess about and
 * no pid that could be reused. The file also names the holder, for the "busy" message; it is never
 * removed (removing an flock'ed file lets two processes lock two different files).
 */
export async function withLock<T>(path: string, busy: Busy, body: () => Promise<T>): Promise<T> {
  if (held.has(path)) throw busy(process.pid)
  held.add(path)
  try {
    const release = await acquire(path, busy)
    try {
      return await body()
    } finally {
      await release()
    }
  } finally {
    held.delete(path)
  }
}

/** Takes the flock or throws `busy`; resolves to the release function. */
async function acquire(path: string, busy: Busy): Promise<() => Promise<void>> {
  mkdirSync(dirname(path), { recursive: true })
  // Created here (never truncated by flock), not following a planted symlink.
  closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600))
  const BUSY = 75
  const child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY), path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const outcome = await new Promise<'locked' | { code: number | null; error?: Error; stderr: string }>((resolve) => {
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (stdout.includes('locked')) resolve('locked')
    })
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', (error) => resolve({ code: null, error, stderr }))
    child.once('exit', (code) => resolve({ code, stderr }))
  })
  if (outcome !== 'locked') {
    if (outcome.error) {
      throw new MigLabError('lock_failed', `Cannot lock ${path}: ${outcome.error.message}`, { hint: 'MigLab needs the `flock` command (Debian: util-linux).' })
    }
    if (outcome.code === BUSY) throw busy(ownerOf(path))
    throw new MigLabError('lock_failed', `Cannot lock ${path} (flock exited ${outcome.code}).`, { stderr: outcome.stderr.slice(-500), hint: 'Check that the data directory is writable.' })
  }
  writeOwner(path)
  return () => release(child)
}

function release(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stdin!.end()
  return exited
}

function writeOwner(path: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW)
  try {
    ftruncateSync(fd, 0)
    writeSync(fd, `${process.pid}\n`)
  } finally {
    closeSync(fd)
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}
