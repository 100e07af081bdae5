import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { isRunning } from './processes'

const held = new Set<string>()

/**
 * One `up`/`down` at a time per lab, across processes (CLI and app share the host): a pid file,
 * taken over when its owner is dead.
 */
export async function withLock<T>(path: string, body: () => Promise<T>): Promise<T> {
  let owner: number | undefined
  try {
    owner = Number(readFileSync(path, 'utf8').trim())
  } catch {
    // no lock file: free
  }
  if (held.has(path) || (owner && owner !== process.pid && isRunning(owner))) {
    throw new MigLabError('demo_lab_busy', 'Another MigLab process is changing the demo lab right now.', {
      hint: held.has(path) ? 'Wait for the running demo lab job to finish.' : `Wait for process ${owner} to finish, or stop it.`,
    })
  }
  held.add(path)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${process.pid}\n`)
  try {
    return await body()
  } finally {
    held.delete(path)
    rmSync(path, { force: true })
  }
}
