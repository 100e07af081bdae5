// Terminal throughput: MB/s of remote output rendered by xterm.js in Chromium (browser mode, with
// the ack-based flow control), against the same bytes read straight over the SSH pool in this
// process. Checks bytes in = bytes rendered. Prints numbers and ratios; never passes or fails on
// time. Needs root (sshd), Chromium and a build: `npm run build && npx tsx bench/terminal.ts [MB]`.
// Each configuration switches one part back (the page's localStorage 'miglab.terminal.tuning'; a
// second server with MIGLAB_TERMINAL_COALESCE=0), in interleaved rounds of one run: before (DOM
// renderer, base64 in JSON, an event and a write per ~4 KiB pty read), + binary WebSocket frames,
// + per-frame write batching, + coalescing in the core (the default), and WebGL forced.
// MIGLAB_PROFILE=DIR writes a CPU profile per configuration (first round) and prints the page's idle share.
// Findings on the 2-core dev machine (Nov 2026, load 3–6): the default ×1.6–1.7 of before (7–10 MB/s);
// binary frames and batching alone are within the noise, coalescing is the step that separates.
// The page is ~20 % idle (waiting for data) and spends most of the rest natively (the DOM renderer's
// layout and paint, '(program)' in the profile); xterm's parser is ~10 %, base64 decoding was ~3.5 %.
// WebGL here is SwiftShader (software): 1.7–2.0 MB/s, hence 'auto' takes WebGL on a GPU only.
// Earlier: flow control off gave the same speed, so the ack path is not the limit.
import { chromium } from '@playwright/test'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
const servers: { kill(): void; dataDir: string }[] = []

/** `miglab serve` on its own data dir, with the sshd added as a trusted node. */
async function serve(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-bench-'))
  const server = spawn(process.execPath, ['bin/miglab.mjs', 'serve', '--port', '0'], { env: { ...process.env, ...env, MIGLAB_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] })
  servers.push({ kill: () => server.kill('SIGTERM'), dataDir })
  const url = await new Promise<string>((resolve) => {
    let out = ''
    server.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = out.match(/(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/)
      if (m) resolve(m[1])
    })
  })
  const origin = new URL(url).origin
  const call = async (method: string, input: unknown) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/api?token=${new URL(url).hash.slice(7)}`, { headers: { Origin: origin } })
    await new Promise((r) => ws.once('open', r))
    try {
      return await new Promise<{ id: number }>((resolve, reject) => {
        ws.on('message', (d: WebSocket.RawData, binary: boolean) => {
          const m = binary ? {} : JSON.parse(String(d))
          if (m.kind !== 'response' || m.id !== 1) return
          if (m.ok) resolve(m.result)
          else reject(new Error(m.error.message))
        })
        ws.send(JSON.stringify({ id: 1, method, input }))
      })
    } finally {
      ws.close()
    }
  }
  const lab = await call('labs.create', { name: 'bench' })
  const node = await call('nodes.add', { labId: lab.id, name: 'sshd', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
  await call('hostKeys.trust', { host: sshd.host, port: sshd.port, fingerprint: sshd.fingerprint() }).catch(async () => {
    await call('nodes.connect', { nodeId: node.id }).catch(() => undefined) // let MigLab see the key, then trust it
    await call('hostKeys.trust', { host: sshd.host, port: sshd.port, fingerprint: sshd.fingerprint() })
  })
  return { url, origin, call }
}

try {
  // Baseline: the same bytes over the pool, no browser.
  const t = testPool(sshd)
  const rawStart = performance.now()
  const raw = await exec(t.pool, 'root', flood, { timeoutMs: 300_000 })
  const rawS = (performance.now() - rawStart) / 1000
  await t.pool.close()
  // The server as it was (each ~4 KiB pty read its own event) and as it is (coalesced per turn).
  const chunked = await serve({ MIGLAB_TERMINAL_COALESCE: '0' })
  const coalesced = await serve({})

  // Each configuration switches one part back (localStorage 'miglab.terminal.tuning', read by the
  // page), in one browser and one run, so the ratios compare like with like.
  const configs: { name: string; tuning: Record<string, unknown>; server: typeof chunked }[] = [
    { name: 'before: DOM, base64 JSON, no batching', tuning: { renderer: 'dom', wire: 'base64', batch: false }, server: chunked },
    { name: '+ binary frames', tuning: { renderer: 'dom', wire: 'binary', batch: false }, server: chunked },
    { name: '+ batching per frame', tuning: { renderer: 'dom', wire: 'binary', batch: true }, server: chunked },
    { name: '+ server coalescing (the default)', tuning: {}, server: coalesced },
    { name: 'default + WebGL forced', tuning: { renderer: 'webgl' }, server: coalesced },
  ]
  if (process.env.ONLY) configs.splice(0, configs.length, ...configs.filter((c) => c.name.includes(process.env.ONLY!)))
  const profile = process.env.MIGLAB_PROFILE // a directory: one .cpuprofile per configuration
  const browser = await chromium.launch({
    executablePath: process.env.MIGLAB_CHROMIUM ?? '/usr/bin/chromium',
    // No GPU here: Chromium's SwiftShader gives WebGL2 in software (the page falls back to DOM without it).
    args: ['--no-sandbox', '--disable-background-networking', '--enable-unsafe-swiftshader'],
  })
  // Rounds interleave the configurations, so a burst of load elsewhere on the machine hits all alike.
  const ROUNDS = Number(process.env.ROUNDS ?? 3)
  const results: { name: string; mbs: number; renderer: string; rendered: number; idle?: number }[] = []
  for (let round = 0; round < ROUNDS; round++) for (const c of configs) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.addInitScript((t) => localStorage.setItem('miglab.terminal.tuning', t), JSON.stringify(c.tuning))
    await page.goto(`${c.server.origin}/?page=terminals${new URL(c.server.url).hash}`)
    await page.getByRole('button', { name: 'New terminal' }).click()
    const host = page.locator('.xterm-host')
    await page.getByTestId('terminal').and(page.locator('[data-terminal-id]')).waitFor()
    await host.locator('.xterm').click()
    await page.keyboard.type('stty -echo\n')
    await page.waitForTimeout(500)
    const before = Number((await host.getAttribute('data-bytes-written')) ?? 0)
    const cdp = profile && round === 0 ? await page.context().newCDPSession(page) : undefined
    if (cdp) {
      await cdp.send('Profiler.enable')
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
      await cdp.send('Profiler.start')
    }
    const trace = process.env.MIGLAB_TRACE && round === 0
    if (trace) await browser.startTracing(page, { path: join(process.env.MIGLAB_TRACE!, `${results.length}.json`), categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'cc', 'gpu', 'toplevel', 'ipc', 'mojom'] })
    const start = performance.now()
    await page.keyboard.type(`${flood.text}; echo\n`)
    await page.waitForFunction(
      ([target]) => Number(document.querySelector('.xterm-host')?.getAttribute('data-bytes-written') ?? 0) >= target,
      [before + bytes],
      { timeout: 600_000, polling: 50 },
    )
    const termS = (performance.now() - start) / 1000
    if (trace) await browser.stopTracing()
    let idle: number | undefined
    if (cdp) {
      const { profile: p } = await cdp.send('Profiler.stop')
      writeFileSync(join(profile!, `${results.length}.cpuprofile`), JSON.stringify(p))
      // The share of the page's main thread spent waiting for data (the profiler's '(idle)' node).
      const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
      const deltas = p.timeDeltas ?? []
      const total = deltas.reduce((a, b) => a + b, 0)
      idle = (p.samples ?? []).reduce((a, id, i) => a + (idleIds.has(id) ? deltas[i] : 0), 0) / (total || 1)
    }
    const rendered = Number(await host.getAttribute('data-bytes-written')) - before
    results.push({ name: c.name, mbs: bytes / 1e6 / termS, renderer: (await host.getAttribute('data-renderer')) ?? '?', rendered, idle })
    await page.close() // its socket closes, and the server closes its shell (sshd allows 10 per connection)
  }
  await browser.close()

  const rawMBs = raw.stdout.length / 1e6 / rawS
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const of = (name: string) => results.filter((r) => r.name === name)
  const base = median(of(configs[0].name).map((r) => r.mbs))
  console.log(`payload                  ${MB} MB of output, ${ROUNDS} rounds (median, range)`)
  console.log(`SSH pool, no browser     ${rawMBs.toFixed(1)} MB/s (${raw.stdout.length} bytes)`)
  console.log('xterm.js in Chromium (headless, no GPU: WebGL2 only through SwiftShader, in software):')
  for (const c of configs) {
    const rs = of(c.name)
    const mbs = median(rs.map((r) => r.mbs))
    const lo = Math.min(...rs.map((r) => r.mbs))
    const hi = Math.max(...rs.map((r) => r.mbs))
    const all = rs.every((r) => r.rendered >= bytes)
    const idle = rs[0].idle === undefined ? '' : `  page idle ${(rs[0].idle * 100).toFixed(0)} %`
    console.log(
      `  ${c.name.padEnd(36)} ${mbs.toFixed(1).padStart(5)} MB/s (${lo.toFixed(1)}–${hi.toFixed(1)})  ×${(mbs / base).toFixed(2)} of before  ×${(mbs / rawMBs).toFixed(2)} of raw  ×${(mbs / GOAL_MBS).toFixed(2)} of goal  [${rs[0].renderer}] ${all ? 'all bytes rendered' : 'MISSING BYTES'}${idle}`,
    )
  }
} finally {
  for (const s of servers) s.kill()
  await sshd.stop()
  removeSshdDir(sshd)
  for (const s of servers) rmSync(s.dataDir, { recursive: true, force: true })
}
