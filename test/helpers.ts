import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCore, type Core } from '../src/main/core'
import { inputs, type Method, type Results } from '../src/shared/api'
import type { SetupRunReport } from '../src/shared/contract/setup'

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

/** A core's handlers called as a door calls them: the input parsed by the method's contract first. */
export const callerOf =
  (core: () => Core) =>
  <M extends Method>(m: M, input: unknown): Promise<Results[M]> =>
    (core().handlers[m] as (i: unknown) => Promise<Results[M]>)(inputs[m].parse(input))

/** Runs a wizard as the `setup.run` job a user starts; its report, or the job's error when it did not succeed. */
export async function runSetupJob(core: Core, input: unknown): Promise<SetupRunReport> {
  const job = await callerOf(() => core)('setup.run', input)
  const done = await core.services.jobs.wait(job.id)
  if (done.status !== 'succeeded') throw new Error(`job ${done.status}: ${JSON.stringify(done.error)}`)
  return done.result as SetupRunReport
}
