import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCore, type Core } from '../src/main/core'

/** A core on a throwaway data dir (a real SQLite file); `dispose` closes it and removes the dir. */
export function tempCore(door: 'desktop' | 'browser' = 'browser'): { core: Core; dataDir: string; dispose: () => Promise<void> } {
  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-test-'))
  const core = createCore({ dataDir, door })
  return {
    core,
    dataDir,
    dispose: async () => {
      await core.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'miglab-test-'))
}
