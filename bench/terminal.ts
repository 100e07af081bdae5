// Terminal throughput: MB/s of remote output rendered by xterm.js in Chromium (browser mode, with
// the ack-based flow control), against the same bytes read straight over the SSH pool in this
// process. Checks bytes in = bytes rendered. Prints numbers and ratios; never passes or fails on
// time. Needs root (sshd), Chromium and a build: `npm run build && npx tsx bench/terminal.ts [MB]`.
// Measured on the 2-core dev machine: 3.4–4.2 MB/s rendered vs 15–17 MB/s raw. Switching flow control
// off (no pauses) gave the same 3.6 MB/s and native base64 decoding changed nothing, so the page —
// xterm.js's DOM renderer in headless Chromium without a GPU — is the limit, not the SSH or ack path.
import { chromium } from '@playwright/test'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { cmd, pipeline } from '../src/main/remote/command'
import { exec } from '../src/main/ssh/exec'
import { removeSshdDir, startSshd } from '../test/fixtures/sshd'
import { testPool } from '../test/fixtures/ssh-pool'

const MB = Number(process.argv[2] ?? 32)
const bytes = MB * 1_000_000
const GOAL_MBS = 30
// Log-like output: 80-column lines, as builds and `dmesg` print them.
const flood = pipeline(cmd('yes', 'MigLab terminal throughput: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMN'), cmd('head', '-c', bytes))

const sshd = await startSshd()
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-bench-'))
const server = spawn(process.execPath, ['bin/miglab.mjs', 'serve', '--port', '0'], { env: { ...process.env, MIGLAB_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] })
try {
  // Baseline: the same bytes over the pool, no browser.
  const t = testPool(sshd)
  const rawStart = performance.now()
  const raw = await exec(t.pool, 'root', flood, { timeoutMs: 300_000 })
  const rawS = (performance.now() - rawStart) / 1000
  await t.pool.close()

  const url = await new Promise<string>((resolve) => {
    let out = ''
    server.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = out.match(/(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/)
      if (m) resolve(m[1])
    })
  })
  const origin = new URL(url).origin
  const ws = new WebSocket(`${origin.replace('http', 'ws')}/api?token=${new URL(url).hash.slice(7)}`, { headers: { Origin: origin } })
  await new Promise((r) => ws.once('open', r))
  let next = 1
  const call = (method: string, input: unknown) =>
    new Promise<{ id: number }>((resolve, reject) => {
      const id = next++
      const onMessage = (d: WebSocket.RawData) => {
        const m = JSON.parse(String(d))
        if (m.kind !== 'response' || m.id !== id) return
        ws.off('message', onMessage)
        if (m.ok) resolve(m.result)
        else reject(new Error(m.error.message))
      }
      ws.on('message', onMessage)
      ws.send(JSON.stringify({ id, method, input }))
    })
  const lab = await call('labs.create', { name: 'bench' })
  const node = await call('nodes.add', { labId: lab.id, name: 'sshd', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
  await call('hostKeys.trust', { host: sshd.host, port: sshd.port, fingerprint: sshd.fingerprint() }).catch(async () => {
    await call('nodes.connect', { nodeId: node.id }).catch(() => undefined) // let MigLab see the key, then trust it
    await call('hostKeys.trust', { host: sshd.host, port: sshd.port, fingerprint: sshd.fingerprint() })
  })
  ws.close()

  const browser = await chromium.launch({ executablePath: process.env.MIGLAB_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(`${origin}/?page=terminals${new URL(url).hash}`)
  await page.getByRole('button', { name: 'New terminal' }).click()
  const host = page.locator('.xterm-host')
  await page.getByTestId('terminal').and(page.locator('[data-terminal-id]')).waitFor()
  await host.locator('.xterm').click()
  await page.keyboard.type('stty -echo\n')
  await page.waitForTimeout(500)
  const before = Number((await host.getAttribute('data-bytes-written')) ?? 0)
  const start = performance.now()
  await page.keyboard.type(`${flood.text}; echo\n`)
  await page.waitForFunction(
    ([target]) => Number(document.querySelector('.xterm-host')?.getAttribute('data-bytes-written') ?? 0) >= target,
    [before + bytes],
    { timeout: 600_000, polling: 50 },
  )
  const termS = (performance.now() - start) / 1000
  const rendered = Number(await host.getAttribute('data-bytes-written')) - before
  await browser.close()

  const rawMBs = raw.stdout.length / 1e6 / rawS
  const termMBs = bytes / 1e6 / termS
  console.log(`payload                  ${MB} MB of output`)
  console.log(`SSH pool, no browser     ${rawMBs.toFixed(1)} MB/s (${raw.stdout.length} bytes)`)
  console.log(`xterm.js in Chromium     ${termMBs.toFixed(1)} MB/s (${rendered} bytes rendered, ≥ ${bytes} sent: ${rendered >= bytes ? 'all' : 'MISSING'})`)
  console.log(`ratio terminal / raw     ${(termMBs / rawMBs).toFixed(2)}×`)
  console.log(`ratio terminal / goal    ${(termMBs / GOAL_MBS).toFixed(2)}× of ${GOAL_MBS} MB/s`)
} finally {
  server.kill('SIGTERM')
  await sshd.stop()
  removeSshdDir(sshd)
  rmSync(dataDir, { recursive: true, force: true })
}
