import { test as base } from '@playwright/test'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface MigLabServer {
  /** The address `miglab serve` printed, token included. */
  url: string
  /** Same origin without the token. */
  origin: string
  dataDir: string
  dbPath: string
}

/**
 * The labs of e2e runs get their own names, so they never touch a user's demo labs; the Xen lab's dom0
 * image comes from the cache the Xen tests share (built once, ~2 min).
 */
export const e2eEnv = (dataDir: string): Record<string, string> => ({
  MIGLAB_DATA_DIR: dataDir,
  MIGLAB_DEMO_PREFIX: 'mle2e',
  MIGLAB_XEN_PREFIX: 'mxe2e',
  MIGLAB_XEN_CACHE_DIR: process.env.MIGLAB_XEN_CACHE_DIR || '/var/tmp/miglab-xen-cache',
})

/** The `miglab` CLI on a test's data dir (with the e2e names), as a user would run it beside the app. */
export const miglabCli = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, [fileURLToPath(new URL('../bin/miglab.mjs', import.meta.url)), ...args], { env: { ...process.env, ...e2eEnv(dataDir) }, encoding: 'utf8' })

/** Starts the real `miglab serve` (browser door + core + SQLite) on a fresh data dir, or on one a test prepared. */
export async function startServer(dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-'))): Promise<{ server: MigLabServer; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/miglab.mjs', import.meta.url)), 'serve', '--port', '0'], {
    env: { ...process.env, ...e2eEnv(dataDir) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`miglab serve printed no URL in 60 s:\n${out}`)), 60_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = out.match(/(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`miglab serve exited (${code}):\n${out}`)))
  })
  return { server: { url, origin: new URL(url).origin, dataDir, dbPath: join(dataDir, 'miglab.sqlite') }, child }
}

export const test = base.extend<{ miglab: MigLabServer }>({
  miglab: [
    async ({}, use) => {
      const { server, child } = await startServer()
      await use(server)
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      rmSync(server.dataDir, { recursive: true, force: true })
    },
    { scope: 'test' },
  ],
})

export { expect } from '@playwright/test'
