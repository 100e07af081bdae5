import { homedir } from 'node:os'
import { join } from 'node:path'

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
