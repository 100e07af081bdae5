// Terminal throughput: MB/s of remote output rendered by xterm.js in Chromium (browser mode, with
// the ack-based flow control), against the same bytes read straight over the SSH pool in this
// process. Checks bytes in = bytes rendered. Prints numbers and ratios; never passes or fails on
// time. Needs root (sshd), Chromium and a build: `npm run build && npx tsx bench/terminal.ts [MB]`.
// Each configuration switches one part back (the page's localStorage 'miglab.terminal.tuning'; a
// second server with MIGLAB_TERMINAL_COALESCE=0), in interleaved rounds of one run: before (DOM
// renderer, base64 in JSON, an event and a write per ~4 KiB pty read), + binary WebSocket frames,
// + per-frame write batching, + coalescing in the core, + 20 renders/s during bursts (the default),
// and WebGL forced. Two ceilings in the same browser: xterm.js alone in a blank page at the app
// terminal's size, fed the same bytes with no network (terminal-ceiling.page.ts), drawn and hidden
// (parsing only). Then the CPU each process of the path spent per MB (sshd, the MigLab server,
// Chromium's browser/network/GPU processes, the page), from /proc. The clock starts at Enter.
// MIGLAB_PROFILE=DIR: a CPU profile per configuration (first round), and the page's idle share.
// MIGLAB_TRACE=DIR: a Chrome trace per configuration. ONLY=text keeps configurations whose name
// holds it; EXTRA='[{"name","tuning"}]' adds some on the default server, to try a knob.
// Findings (2-core machine shared with other work, Nov 2026): xterm.js alone reaches 21–36 MB/s
// here, parsing alone about as much: the parser (print, setCellFromCodepoint, the line recycling
// of a full scrollback) is the ceiling, and drawing adds ~10–20 %. The full path spends ~2× the
// page CPU per MB that xterm alone does: per-frame renders (layout, paint, raster of every row,
// 60/s when each frame brings output) and the page waits ~17 % for data while the server and
// sshd take their share of the two cores. Pacing renders to 20/s in bursts cut the page's CPU
// per MB by ~30 % (57 → 40 ms/MB) and gave ×1.2. Tried and dropped (EXTRA, same run): a 100 ms
// pause ×0.92; an ack per 256 KiB instead of 64 KiB ×0.92; writing the queue as soon as xterm
// finished the previous write ×0.87 (more renders: 55 ms/MB). WebGL here is SwiftShader
// (software): 2–6 MB/s, so 'auto' takes WebGL on a GPU only. Flow control off gave the same
// speed earlier, so the ack path is not the limit.
import { chromium, type Page } from '@playwright/test'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RolldownOutput } from 'rolldown'
import { build } from 'vite'
import WebSocket from 'ws'
import type {} from './terminal-ceiling.page' // its window.xtermCeiling type
import { cmd, pipeline } from '../src/main/remote/command'
import { exec } from '../src/main/ssh/exec'
import { removeSshdDir, startSshd } from '../test/fixtures/sshd'
import { cpuByKind } from './cpu-by-process'
import { testPool } from '../test/fixtures/ssh-pool'

const MB = Number(process.argv[2] ?? 32)
const bytes = MB * 1_000_000
const GOAL_MBS = 30
// Log-like output: 80-column lines, as builds and `dmesg` print them.
const flood = pipeline(cmd('yes', 'MigLab terminal throughput: 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMN'), cmd('head', '-c', bytes))

/** The processes of the path, as the CPU table names them. */
function kindOf(cmd: string): string | undefined {
  if (cmd.includes('miglab.mjs serve')) return 'server'
  if (cmd.includes('sshd')) return 'sshd'
  if (!cmd.includes('chrom')) return undefined
  const type = /--type=([\w-]+)/.exec(cmd)?.[1]
  if (type === 'renderer') return 'page'
  if (type === 'gpu-process') return 'gpu'
  if (type === 'utility') return 'network'
  return type ? 'chromium other' : 'browser'
}

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
    { name: 'before: DOM, base64 JSON, no batching', tuning: { renderer: 'dom', wire: 'base64', batch: false, paceMs: 0 }, server: chunked },
    { name: '+ binary frames', tuning: { renderer: 'dom', wire: 'binary', batch: false, paceMs: 0 }, server: chunked },
    { name: '+ batching per frame', tuning: { renderer: 'dom', wire: 'binary', batch: true, paceMs: 0 }, server: chunked },
    { name: '+ server coalescing', tuning: { renderer: 'dom', paceMs: 0 }, server: coalesced },
    { name: '+ 20 renders/s in bursts (the default)', tuning: {}, server: coalesced },
    { name: 'default + WebGL forced', tuning: { renderer: 'webgl' }, server: coalesced },
  ]
  // EXTRA='[{"name":…,"tuning":{…}}]': more configurations on the default server, for trying a knob.
  for (const e of JSON.parse(process.env.EXTRA ?? '[]') as { name: string; tuning: Record<string, unknown> }[]) configs.push({ ...e, server: coalesced })
  if (process.env.ONLY) configs.splice(0, configs.length, ...configs.filter((c) => c.name.includes(process.env.ONLY!)))
  const profile = process.env.MIGLAB_PROFILE // a directory: one .cpuprofile per configuration
  const browser = await chromium.launch({
    executablePath: process.env.MIGLAB_CHROMIUM ?? '/usr/bin/chromium',
    // No GPU here: Chromium's SwiftShader gives WebGL2 in software (the page falls back to DOM without it).
    args: ['--no-sandbox', '--disable-background-networking', '--enable-unsafe-swiftshader'],
  })
  // Rounds interleave the configurations, so a burst of load elsewhere on the machine hits all alike.
  const ROUNDS = Number(process.env.ROUNDS ?? 3)
  const results: { name: string; mbs: number; renderer: string; rendered: number; idle?: number; cpu?: Map<string, number>; seconds?: number }[] = []
  // The ceiling: xterm.js alone in a blank page of the same browser, at the app terminal's size, fed
  // the same bytes with nothing in between (and once hidden, which leaves xterm's parsing alone).
  const ceilings = [
    { name: 'ceiling: xterm.write, no network', hidden: false },
    { name: 'ceiling: xterm parsing, not drawn', hidden: true },
  ]
  const bundled = await build({
    configFile: false,
    logLevel: 'silent',
    build: { write: false, lib: { entry: join(import.meta.dirname, 'terminal-ceiling.page.ts'), formats: ['iife'], name: 'xtermCeiling' } },
  })
  const ceilingJs = (Array.isArray(bundled) ? bundled[0] : (bundled as RolldownOutput)).output[0].code
  const xtermCss = readFileSync(join(import.meta.dirname, '../node_modules/@xterm/xterm/css/xterm.css'), 'utf8')
  // MIGLAB_TRACE=DIR: a Chrome trace per configuration (first round), for chrome://tracing or Perfetto.
  const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink', 'cc', 'gpu', 'toplevel', 'ipc', 'mojom']
  let hostSize: { width: number; height: number } | undefined
  /** A CPU profile of the page's main thread into MIGLAB_PROFILE; stopping it gives the share the page sat idle (waiting for data). */
  const startProfile = async (page: Page) => {
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
    await cdp.send('Profiler.start')
    return async (name: string) => {
      const { profile: p } = await cdp.send('Profiler.stop')
      writeFileSync(join(profile!, `${name}.cpuprofile`), JSON.stringify(p))
      const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id))
      const deltas = p.timeDeltas ?? []
      const total = deltas.reduce((a, b) => a + b, 0)
      return (p.samples ?? []).reduce((a, id, i) => a + (idleIds.has(id) ? deltas[i] : 0), 0) / (total || 1)
    }
  }
  for (let round = 0; round < ROUNDS; round++) for (const c of [...configs, ...ceilings]) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    if ('hidden' in c) {
      await page.setContent('<!doctype html><body style="margin:0"></body>')
      await page.addStyleTag({ content: xtermCss })
      await page.addScriptTag({ content: ceilingJs })
      const stop = profile && round === 0 ? await startProfile(page) : undefined
      const trace = process.env.MIGLAB_TRACE && round === 0
      if (trace) await browser.startTracing(page, { path: join(process.env.MIGLAB_TRACE!, `${results.length}.json`), categories: TRACE_CATEGORIES })
      const bps = await page.evaluate((o) => window.xtermCeiling(o), { bytes, hidden: c.hidden, ...hostSize! })
      if (trace) await browser.stopTracing()
      results.push({ name: c.name, mbs: bps / 1e6, renderer: 'dom', rendered: bytes, idle: await stop?.(`${results.length}`) })
      await page.close()
      continue
    }
    await page.addInitScript((t) => localStorage.setItem('miglab.terminal.tuning', t), JSON.stringify(c.tuning))
    await page.goto(`${c.server.origin}/?page=terminals${new URL(c.server.url).hash}`)
    await page.getByRole('button', { name: 'New terminal' }).click()
    const host = page.locator('.xterm-host')
    await page.getByTestId('terminal').and(page.locator('[data-terminal-id]')).waitFor()
    hostSize ??= (await host.boundingBox())!
    await host.locator('.xterm').click()
    await page.keyboard.type('stty -echo\n')
    await page.waitForTimeout(500)
    const before = Number((await host.getAttribute('data-bytes-written')) ?? 0)
    const stopProfile = profile && round === 0 ? await startProfile(page) : undefined
    const trace = process.env.MIGLAB_TRACE && round === 0
    if (trace) await browser.startTracing(page, { path: join(process.env.MIGLAB_TRACE!, `${results.length}.json`), categories: TRACE_CATEGORIES })
    // The command is typed before the clock starts (each key is a call; ~150 of them are not output).
    await page.keyboard.type(`${flood.text}; echo`)
    const cpuBefore = cpuByKind(kindOf)
    const start = performance.now()
    await page.keyboard.press('Enter')
    await page.waitForFunction(
      ([target]) => Number(document.querySelector('.xterm-host')?.getAttribute('data-bytes-written') ?? 0) >= target,
      [before + bytes],
      { timeout: 600_000, polling: 50 },
    )
    const termS = (performance.now() - start) / 1000
    const cpuAfter = cpuByKind(kindOf)
    const cpu = new Map([...cpuAfter].map(([k, v]) => [k, v - (cpuBefore.get(k) ?? 0)]))
    if (trace) await browser.stopTracing()
    const idle = await stopProfile?.(`${results.length}`)
    const rendered = Number(await host.getAttribute('data-bytes-written')) - before
    results.push({ name: c.name, mbs: bytes / 1e6 / termS, renderer: (await host.getAttribute('data-renderer')) ?? '?', rendered, idle, cpu, seconds: termS })
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
  for (const c of [...configs, ...ceilings]) {
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
  // Where the CPU went (all processes of the path, on a machine of os.availableParallelism() cores).
  console.log(`CPU ms per MB rendered, by process (summed over rounds), and cores busy; ${availableParallelism()} cores:`)
  const kinds = [...new Set(results.flatMap((r) => [...(r.cpu?.keys() ?? [])]))].filter((k) => k !== 'other')
  console.log(`  ${''.padEnd(36)} ${kinds.map((k) => k.padStart(Math.max(9, k.length))).join(' ')}  cores`)
  for (const c of configs) {
    const rs = of(c.name)
    const sum = (k: string) => rs.reduce((a, r) => a + (r.cpu?.get(k) ?? 0), 0)
    const mb = (rs.length * bytes) / 1e6
    const cores = kinds.reduce((a, k) => a + sum(k), 0) / rs.reduce((a, r) => a + (r.seconds ?? 0), 0)
    console.log(`  ${c.name.padEnd(36)} ${kinds.map((k) => ((sum(k) / mb) * 1000).toFixed(0).padStart(Math.max(9, k.length))).join(' ')}  ${cores.toFixed(2)}`)
  }
} finally {
  for (const s of servers) s.kill()
  await sshd.stop()
  removeSshdDir(sshd)
  for (const s of servers) rmSync(s.dataDir, { recursive: true, force: true })
}
