import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { MigLabError } from '../shared/errors'

/**
 * Where the history lives: MIGLAB_DATA_DIR wins (tests, scripts), then the desktop app's userData,
 * then the XDG data dir shared by the CLI and browser mode — so all three doors see one history.
 */
export function resolveDataDir(electronUserData?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.MIGLAB_DATA_DIR) return env.MIGLAB_DATA_DIR
  if (electronUserData) return electronUserData
  const xdg = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(xdg, 'miglab')
}

export const dbPathIn = (dataDir: string): string => join(dataDir, 'miglab.sqlite')

/**
 * Creates `dir` (and missing parents) readable by its owner only — transcripts, host inventory and
 * run history are nobody else's business — and tightens it to 0700 if it exists looser. Parents are
 * left as they are. A shared sticky folder (/tmp) is refused rather than locked for everyone.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = statSync(dir)
  if (!st.isDirectory()) throw new MigLabError('data_dir_invalid', `The data directory ${dir} is not a folder.`, { hint: 'Point MIGLAB_DATA_DIR at a folder of its own.' })
  if ((st.mode & 0o7777) === 0o700) return
  if (st.mode & 0o1000) {
    throw new MigLabError('data_dir_shared', `The data directory ${dir} is a shared folder (sticky, like /tmp); MigLab keeps its history in a private one.`, {
      hint: `Point MIGLAB_DATA_DIR at a folder of its own, e.g. ${join(dir, 'miglab')}.`,
    })
  }
  try {
    chmodSync(dir, 0o700)
  } catch (err) {
    throw new MigLabError('data_dir_permissions', `Cannot make the data directory ${dir} private (0700): ${(err as Error).message}.`, {
      hint: `Run MigLab as the folder's owner, or chmod 700 ${dir}.`,
    })
  }
}

/** Creates `file` if missing, owner read/write only, and tightens it to 0600 if it exists looser. */
export function ensurePrivateFile(file: string, create = true): void {
  if (!existsSync(file)) {
    if (!create) return
    closeSync(openSync(file, 'a', 0o600))
  }
  if ((statSync(file).mode & 0o777) !== 0o600) chmodSync(file, 0o600)
}
