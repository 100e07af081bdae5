/**
 * The run history at thesis scale: a synthetic database of 10 000 runs and ~1 000 000 samples,
 * written through the real RunWriter. Prints list+filter, detail and compare times and the bundle
 * export/import rates, each against its goal as a ratio (below 1.0x meets it); no pass/fail.
 * Measured in the core (SQL + mapping, what every door calls) and, unless --no-page, in the page:
 * `miglab serve` on the same database, driven in Chromium (needs `npx electron-vite build`).
 * Usage: npx tsx bench/history.ts [runs] [--no-page]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compareRuns } from '../src/main/migration/compare'
import { groupRuns, thesisView } from '../src/main/migration/groups'
import { dbPathIn } from '../src/main/paths'
import { buildBundle, gzipBundle, importBundle, parseBundle } from '../src/main/store/bundle'
import { openDb } from '../src/main/store/db'
import { HistoryRepo } from '../src/main/store/history'
import { runDetail, runDetailThinned, runSummaries } from '../src/main/store/run-detail'
import { seedRuns } from '../test/fixtures/synthetic-runs'

const args = process.argv.slice(2)
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000)
const PAGE = !args.includes('--no-page')
const STRATEGIES = ['precopy', 'postcopy', 'dsm', 'xbzrle', 'multifd']
const WORKLOADS = ['idle', 'dirty:64M:50', 'dirty:256M:200', 'echo']
const SAMPLES_PER_SERIES = 34 // 3 series × 34 × 10 000 runs ≈ 1 020 000 samples

const dir = mkdtempSync(join(tmpdir(), 'miglab-bench-history-'))
const fresh = mkdtempSync(join(tmpdir(), 'miglab-bench-history-import-'))
const line = (label: string, ms: number, goal?: number, extra = '') =>
  console.log(`  ${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms${goal ? `   ${(ms / goal).toFixed(2)}x of the ${goal} ms goal` : ''}${extra}`)
const median = (f: () => unknown, n = 7): number => {
  f() // warm: statements prepared, pages cached
  const ts: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    f()
    ts.push(performance.now() - t0)
  }
  return ts.sort((a, b) => a - b)[Math.floor(n / 2)]
}

try {
  const db = openDb(dbPathIn(dir))
  let t0 = performance.now()
  const reps = Math.ceil(RUNS / (STRATEGIES.length * WORKLOADS.length))
  const ids = seedRuns(db, { strategies: STRATEGIES, workloads: WORKLOADS, repetitions: reps, samplesPerSeries: SAMPLES_PER_SERIES, oneTransaction: true })
  // One long run with a 1 ms probe: 40 000 points per series, 120 000 samples.
  const [heavy] = seedRuns(db, { strategies: ['precopy'], workloads: ['dirty:64M:50'], repetitions: 1, samplesPerSeries: 40_000, oneTransaction: true, seed: 9 })
  // Five more like it, each opened once in the page: first openings, before anything of them is cached.
  const fresh5 = PAGE ? seedRuns(db, { strategies: ['precopy'], workloads: ['dirty:64M:50'], repetitions: 5, samplesPerSeries: 40_000, oneTransaction: true, seed: 10 }) : []
  const history = new HistoryRepo(db)
  db.transaction(() => {
    ids.forEach((id, i) => {
      if (i % 7 === 0) history.tag([id], `night-${i % 30}`)
      if (i % 50 === 0) history.addNote(id, `run ${i}: guest looked sluggish after resume`)
      if (i % 97 === 0) history.star(id, true)
    })
  })()
  const samples = db.prepare('SELECT count(*) FROM samples').pluck().get() as number
  console.log(`history bench: ${ids.length} runs, ${samples} samples, seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`)

  console.log('in the core (SQL + mapping; median of 7):')
  line('list: first page (500), newest first', median(() => history.query({}, undefined, 0, 500)), 100)
  line('list+filter: strategy + workload + tag', median(() => history.query({ strategies: ['dsm'], workloads: ['idle'], tags: ['night-7'] }, undefined, 0, 500)), 100)
  line('list+filter: metric range, sort by metric', median(() => history.query({ metrics: [{ key: 'stop_resume_ms', min: 50, max: 150 }] }, { by: 'metric:transferred_bytes', desc: true }, 0, 500)), 100)
  line('list+filter: full text (notes, tags, vm…)', median(() => history.query({ text: 'sluggish' }, undefined, 0, 500)), 100)
  line('list+filter: date range + text + status', median(() => history.query({ from: '2026-11-02T00:00:00Z', to: '2026-11-04T00:00:00Z', text: 'guest-b', statuses: ['succeeded'] }, undefined, 0, 500)), 100)
  line('facets (filter bar choices)', median(() => history.facets()), 100)
  const one = ids[Math.floor(ids.length / 2)]
  line('detail: one run (samples, events, record)', median(() => (runDetail(db, one), history.record(one))), 200)
  line('detail: a run with 120 000 samples', median(() => (runDetail(db, heavy), history.record(heavy))), 200)
  let cold = 0 // another bucket count each time: nothing comes from the cache of thinned series
  line('  thinned for runs.detail, first opening', median(() => (runDetailThinned(db, heavy, 1900 + cold++), history.record(heavy))), 200)
  line('  thinned for runs.detail, opened again', median(() => (runDetailThinned(db, heavy, 2000), history.record(heavy))), 200)
  const thousand = ids.slice(0, 1000)
  line('compare 1 000 runs (strategy × workload)', median(() => compareRuns(runSummaries(db, thousand))), 300)
  line('compare 1 000 runs grouped by a parameter', median(() => groupRuns(history.groupable({ ids: thousand }), ['param:multifdChannels', 'workload'])), 300)
  line('thesis view of 1 000 runs', median(() => thesisView(history.groupable({ ids: thousand }))), 300)

  console.log('bundle (1 000 runs, ~100 000 samples):')
  t0 = performance.now()
  const doc = buildBundle(db, { ids: thousand }, 'bench')
  const gz = gzipBundle(doc)
  const exportMs = performance.now() - t0
  const n = doc.runs.length
  const pts = doc.runs.reduce((a, r) => a + Object.values(r.samples).reduce((b, s) => b + s.t.length, 0), 0)
  line('export (query + gzip)', exportMs, undefined, `   ${Math.round((n / exportMs) * 1000)} runs/s, ${Math.round((pts / exportMs) * 1000)} samples/s, ${(gz.length / 1048576).toFixed(1)} MiB`)
  const target = openDb(dbPathIn(fresh))
  t0 = performance.now()
  const report = importBundle(target, parseBundle(gz))
  const importMs = performance.now() - t0
  line('import (gunzip + validate + insert)', importMs, undefined, `   ${Math.round((n / importMs) * 1000)} runs/s, ${Math.round((pts / importMs) * 1000)} samples/s, ${report.imported.length} imported`)
  t0 = performance.now()
  const again = importBundle(target, parseBundle(gz))
  line('import again (all duplicates)', performance.now() - t0, undefined, `   ${again.skipped.length} skipped`)
  target.close()
  db.close()

  if (PAGE) await inPage(dir, heavy, fresh5)
} finally {
  rmSync(dir, { recursive: true, force: true })
  rmSync(fresh, { recursive: true, force: true })
}

/** The same operations as a user does them: `miglab serve` on the bench database, in Chromium. */
async function inPage(dataDir: string, heavy: number, fresh5: number[]): Promise<void> {
  const { chromium } = await import('@playwright/test')
  const { startServer } = await import('../e2e/fixtures')
  const { server, child } = await startServer(dataDir)
  const browser = await chromium.launch({ executablePath: process.env.MIGLAB_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(server.url)
    await page.evaluate(() => localStorage.clear())
    console.log('in the page (Chromium, browser mode: call over WebSocket + render; median of 5):')
    const timed = async (label: string, goal: number, act: () => Promise<unknown>, done: () => Promise<unknown>, reset?: () => Promise<unknown>, n = 5) => {
      const ts: number[] = []
      for (let i = 0; i <= n; i++) {
        await reset?.()
        const t = performance.now()
        await act()
        await done()
        if (i > 0) ts.push(performance.now() - t) // the first is a warm-up
      }
      line(label, ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)], goal)
    }
    // In-app navigation, as the app's own links do it (no page reload).
    const go = (query: string) =>
      page.evaluate((q) => {
        history.pushState(null, '', `?${q}${location.hash}`)
        dispatchEvent(new PopStateEvent('popstate'))
      }, query)
    const count = page.getByTestId('runs-count')
    await page.getByRole('button', { name: 'Runs' }).click()
    await count.filter({ hasText: / runs/ }).waitFor()
    await timed(
      'list+filter: strategy dsm ↔ any, table drawn',
      100,
      async () => {
        const now = await page.getByLabel('Filter by strategy').inputValue()
        await page.getByLabel('Filter by strategy').selectOption(now === 'dsm' ? '' : 'dsm')
      },
      () => page.waitForFunction(() => /^\d+ runs?( of \d+)? · \d+ ms$/.test(document.querySelector('[data-testid=runs-count]')?.textContent ?? '') && document.querySelectorAll('[data-testid=run-row]').length > 0),
    )
    const empty = () => go('page=labs')
    const id = Math.min(4321, Math.ceil(RUNS / 2))
    await timed(
      'detail: open a run, both charts drawn',
      200,
      () => go(`page=runs&run=${id}`),
      () => page.waitForFunction((id) => (document.querySelector('h1')?.textContent ?? '').includes(`Run #${id} —`) && document.querySelectorAll('.chart canvas').length >= 2, id),
      empty,
    )
    // Each of five such runs once, before anything of it is cached in the server: first openings.
    const firsts: number[] = []
    for (const run of fresh5) {
      await empty()
      const t = performance.now()
      await go(`page=runs&run=${run}`)
      await page.waitForFunction((id) => (document.querySelector('h1')?.textContent ?? '').includes(`Run #${id} —`) && document.querySelectorAll('.chart canvas').length >= 2, run)
      firsts.push(performance.now() - t)
    }
    line('detail: 120 000 samples, first opening', firsts.sort((a, b) => a - b)[2], 200)
    await timed(
      'detail: a run with 120 000 samples, opened again',
      200,
      () => go(`page=runs&run=${heavy}`),
      () => page.waitForFunction((id) => (document.querySelector('h1')?.textContent ?? '').includes(`Run #${id} —`) && document.querySelectorAll('.chart canvas').length >= 2, heavy),
      empty,
    )
    // The call alone, as the page's client makes it: request, JSON over the WebSocket, JSON.parse.
    const callOnly = async (maxPoints?: number) => {
      const ts: number[] = []
      let bytes = 0
      for (let i = 0; i <= 5; i++) {
        const r = await page.evaluate(
          ([id, maxPoints]) =>
            new Promise<[number, number]>((resolve) => {
              const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(sessionStorage.getItem('miglab.token') ?? '')}`)
              ws.onopen = () => {
                const t = performance.now()
                ws.onmessage = (m) => {
                  JSON.parse(String(m.data))
                  resolve([performance.now() - t, String(m.data).length])
                  ws.close()
                }
                // The page's own request: 4 points per device pixel column (src/renderer/src/pages/Runs.tsx).
                const asked = maxPoints || 4 * Math.max(500, Math.min(2000, Math.ceil(innerWidth * (devicePixelRatio || 1))))
                ws.send(JSON.stringify({ id: 1, method: 'runs.detail', input: { id, maxPoints: asked } }))
              }
            }),
          [heavy, maxPoints ?? 0],
        )
        if (i > 0) ts.push(r[0])
        bytes = r[1]
      }
      return { ms: ts.sort((a, b) => a - b)[2], bytes }
    }
    const c = await callOnly()
    line('  of which the call (WebSocket + JSON.parse)', c.ms, 200, `   ${(c.bytes / 1024).toFixed(0)} KiB of JSON`)
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1).join(',')
    await timed(
      'compare 1 000 runs: statistics and bars drawn',
      300,
      () => go(`page=runs&compare=${thousand}`),
      () => page.waitForFunction(() => document.querySelectorAll('[aria-label=Statistics] tbody tr').length > 0 && document.querySelectorAll('.chart canvas').length >= 3),
      empty,
    )
  } finally {
    await browser.close()
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}
