import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { dbPathIn } from '../src/main/paths'
import { openDb } from '../src/main/store/db'
import { seedRuns } from '../test/fixtures/synthetic-runs'
import { expect, startServer, test } from './fixtures'

// Offline review: a data dir with last night's runs, a lab whose node is a TCP port that counts
// every connection (and never speaks SSH), and no demo lab. History, detail, compare, export and
// import must work — and open no connection to the node.
const shots = fileURLToPath(new URL('../docs', import.meta.url))
const cleanups: (() => unknown)[] = []
test.afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function serve(dataDir: string) {
  const { server, child } = await startServer(dataDir)
  cleanups.push(() => new Promise((r) => (child.exitCode !== null ? r(null) : (child.once('exit', r), child.kill('SIGTERM')))), () => rmSync(dataDir, { recursive: true, force: true }))
  return server as typeof server & { child: ChildProcess }
}

/** The thesis table's cells, as text, row by row. */
async function thesisNumbers(page: Page): Promise<string[][]> {
  const table = page.getByTestId('thesis').locator('tbody tr')
  await expect(table.first()).toBeVisible()
  return table.evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent ?? '')))
}

test('offline history: filter, tag and note a run, charts, thesis view, CSV and bundle export, import into a fresh MigLab with the same numbers', async ({ page, browser }) => {
  test.setTimeout(120_000)
  let sshAttempts = 0
  const node: Server = createServer((s) => {
    sshAttempts++
    s.destroy()
  })
  await new Promise<void>((r) => node.listen(0, '127.0.0.1', r))
  cleanups.push(() => new Promise((r) => node.close(r)))
  const port = (node.address() as { port: number }).port

  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-history-'))
  const db = openDb(dbPathIn(dataDir))
  const labId = Number(db.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('night-lab', 'real', '2026-11-01T00:00:00Z')").run().lastInsertRowid)
  db.prepare("INSERT INTO nodes (lab_id, name, host, port, user, auth, created_at) VALUES (?, 'node-a', '127.0.0.1', ?, 'root', '{\"kind\":\"agent\"}', 'x')").run(labId, port)
  db.prepare("INSERT INTO nodes (lab_id, name, host, port, user, auth, created_at) VALUES (?, 'node-b', '127.0.0.1', ?, 'root', '{\"kind\":\"agent\"}', 'x')").run(labId, port)
  seedRuns(db, { repetitions: 3, labId, samplesPerSeries: 60 })
  // An 11 ms DSM migration: one sample per series, too few to draw.
  const [short] = seedRuns(db, { strategies: ['dsm'], workloads: ['idle'], repetitions: 1, samplesPerSeries: 1, labId, seed: 7, start: new Date('2026-11-02T08:00:00Z') })
  db.close()
  const one = await serve(dataDir)

  await page.goto(one.url)
  await page.getByRole('button', { name: 'Runs' }).click()
  await expect(page.getByTestId('runs-count')).toContainText('19 runs')

  // Filter by strategy, then search.
  await page.getByLabel('Filter by strategy').selectOption('dsm')
  await expect(page.getByTestId('runs-count')).toContainText('7 runs of 19')
  await page.getByLabel('Search runs').fill('guest-b')
  await expect(page.getByTestId('runs-count')).toContainText('2 runs of 19')
  await page.getByRole('button', { name: 'Clear' }).click()
  await expect(page.getByTestId('runs-count')).toContainText('19 runs')
  await page.screenshot({ path: join(shots, 'runs-list.png') })

  // Open the short DSM run: tag it, note it, its charts say they have too little to draw.
  await page.getByRole('row').filter({ hasText: 'dsm' }).first().click()
  await expect(page.getByRole('heading', { name: `Run #${short} — dsm, idle` })).toBeVisible()
  await expect(page.getByText('Too few samples to draw').first()).toBeVisible()
  await page.getByLabel('New tag').fill('eleven-ms')
  await page.getByLabel('New tag').press('Enter')
  await expect(page.getByLabel('Tags')).toContainText('eleven-ms')
  await page.getByLabel('New note').fill('DSM finished between two samples; rerun with a 1 ms probe.')
  await page.getByRole('button', { name: 'Add note' }).click()
  await expect(page.getByTestId('note')).toContainText('between two samples')
  await expect(page.getByRole('region', { name: 'Environment' })).toContainText('9.2.0')

  // A run with a full timeline: both charts drawn, exportable as PNG and SVG.
  await page.getByRole('button', { name: '← All runs' }).click()
  await page.getByLabel('Filter by strategy').selectOption('precopy')
  await page.getByRole('row').filter({ hasText: 'dirty:64M:50' }).first().click()
  await expect(page.getByRole('img', { name: 'Migration timeline' })).toBeVisible()
  await expect(page.getByRole('img', { name: /What a client saw/ })).toBeVisible()
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save Migration timeline as SVG' }).click()])
  expect(readFileSync(await svg.path(), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*STOP/)
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save Migration timeline as PNG' }).click()])
  expect(readFileSync(await png.path()).subarray(1, 4).toString()).toBe('PNG')
  await page.screenshot({ path: join(shots, 'run-detail.png'), fullPage: true })
  await expectEveryChartExportable(page)

  // The tag filters the list down to that run.
  await page.getByRole('button', { name: '← All runs' }).click()
  await page.getByRole('button', { name: 'Clear' }).click()
  await page.getByLabel('Filter by tag').selectOption('eleven-ms')
  await expect(page.getByTestId('runs-count')).toContainText('1 run of 19')
  await page.getByRole('button', { name: 'Clear' }).click()

  // Compare every run shown: idle and busy guests in the thesis view.
  await page.getByRole('button', { name: /Compare all 19 shown/ }).click()
  await expect(page.getByRole('table', { name: 'Statistics' })).toBeVisible()
  await expectEveryChartExportable(page)
  const [bars] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save STOP → RESUME as SVG' }).click()])
  expect(readFileSync(await bars.path(), 'utf8').match(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="#/g)?.length).toBeGreaterThanOrEqual(1)
  await page.getByLabel('box plots (spread)').check()
  await expectEveryChartExportable(page)
  const [box] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save STOP → RESUME as SVG' }).click()])
  expect(readFileSync(await box.path(), 'utf8').match(/fill-opacity="0.2"/g)).toHaveLength(6) // one box per strategy × workload
  await page.screenshot({ path: join(shots, 'compare-groups.png'), fullPage: true })
  await page.getByRole('button', { name: 'Thesis view' }).click()
  const before = await thesisNumbers(page)
  expect(before.map((r) => `${r[0]}:${r[1]}`)).toEqual(['idle:dsm', 'idle:postcopy', 'busy:dsm', 'busy:postcopy'])
  await page.screenshot({ path: join(shots, 'thesis-view.png'), fullPage: true })

  // Export CSV and a bundle.
  await page.getByRole('button', { name: '← All runs' }).click()
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()])
  const csvText = readFileSync(await csv.path(), 'utf8')
  expect(csvText.split('\n')[0]).toContain('tags,notes')
  expect(csvText).toContain('eleven-ms')
  expect(csvText).toContain('rerun with a 1 ms probe')
  const [bundle] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export bundle' }).click()])
  const bundlePath = join(mkdtempSync(join(tmpdir(), 'miglab-e2e-bundle-')), bundle.suggestedFilename())
  await bundle.saveAs(bundlePath)
  cleanups.push(() => rmSync(join(bundlePath, '..'), { recursive: true, force: true }))

  // A fresh MigLab imports it, then again (all duplicates); the thesis numbers are identical.
  const two = await serve(mkdtempSync(join(tmpdir(), 'miglab-e2e-history-')))
  const page2 = await browser.newPage()
  await page2.goto(two.url)
  await page2.getByRole('button', { name: 'Runs' }).click()
  await page2.getByLabel('Import bundle').setInputFiles(bundlePath)
  await expect(page2.getByRole('status', { name: 'Import report' })).toContainText('Imported 19 runs, skipped 0')
  await page2.getByLabel('Import bundle').setInputFiles(bundlePath)
  await expect(page2.getByRole('status', { name: 'Import report' })).toContainText('Imported 0 runs, skipped 19 (already in this history')
  await expect(page2.getByTestId('runs-count')).toContainText('19 runs')
  await page2.getByRole('button', { name: /Compare all 19 shown/ }).click()
  await page2.getByRole('button', { name: 'Thesis view' }).click()
  expect(await thesisNumbers(page2)).toEqual(before)
  await page2.close()

  // Offline by construction: nothing above opened a connection to the lab's node.
  expect(sshAttempts).toBe(0)
})

test('columns are chosen, ordered and remembered; run again opens the Migrate form filled in, checkboxes beside their labels', async ({ page }) => {
  test.setTimeout(90_000)
  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-history-'))
  const db = openDb(dbPathIn(dataDir))
  const labId = Number(db.prepare("INSERT INTO labs (name, kind, created_at) VALUES ('night-lab', 'real', '2026-11-01T00:00:00Z')").run().lastInsertRowid)
  // Nodes nobody listens on: the Migrate form still renders, with the driver's errors shown.
  for (const name of ['node-a', 'node-b']) db.prepare("INSERT INTO nodes (lab_id, name, host, port, user, auth, created_at) VALUES (?, ?, '127.0.0.1', 9, 'root', '{\"kind\":\"agent\"}', 'x')").run(labId, name)
  seedRuns(db, { strategies: ['precopy', 'multifd'], workloads: ['dirty:64M:50'], repetitions: 2, labId })
  db.close()
  const one = await serve(dataDir)
  await page.goto(one.url)
  await page.getByRole('button', { name: 'Runs' }).click()
  await expect(page.getByTestId('runs-count')).toContainText('4 runs')

  // A parameter as a column, moved to the front of the metrics, sorted by.
  await page.getByRole('button', { name: 'Columns' }).click()
  await page.getByLabel('Show parameter · multifdChannels').click()
  const header = page.getByRole('columnheader', { name: /multifdChannels/ })
  await expect(header).toBeVisible()
  await page.getByLabel('Move parameter · multifdChannels left').click()
  await header.click()
  await expect(header).toHaveAttribute('aria-sort', 'descending')
  await expect(page.getByRole('row').nth(1)).toContainText('multifd')
  await page.reload()
  await expect(page.getByRole('columnheader', { name: /multifdChannels/ })).toHaveAttribute('aria-sort', 'descending')
  const headers = await page.getByRole('columnheader').allTextContents()
  expect(headers.indexOf('multifdChannels ↓')).toBe(headers.indexOf('Tags') - 1)

  // Run again with the settings of a multifd run.
  await page.getByRole('row').nth(1).click()
  await page.getByRole('button', { name: 'Run again with these settings' }).click()
  await expect(page.getByTestId('run-again')).toContainText('multifd, dirty:64M:50')
  const form = page.getByRole('form', { name: 'Experiment' })
  await expect(form.getByLabel('VM')).toHaveValue(/guest-/)
  await expect(form.getByLabel('Dirty buffer MiB')).toHaveValue('64')
  await form.getByText('Parameters').click()
  await expect(form.getByLabel('Multifd channels')).toHaveValue('4')
  await expect(form.getByLabel('Max bandwidth (MiB/s)')).toHaveValue('1024')
  await expect(form.locator('label.choice', { hasText: 'Memory dirtier' }).locator('input[type=checkbox]')).toBeChecked()

  // Each checkbox sits on the line of its words, right before them.
  for (const text of ['Network service', 'Idle', 'Memory dirtier']) {
    const label = form.locator('label.choice', { hasText: text })
    const box = (await label.locator('input[type=checkbox]').boundingBox())!
    const words = (await label.evaluate((el, t) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT)
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.textContent?.includes(t)) {
          const r = document.createRange()
          r.selectNodeContents(n)
          const b = r.getClientRects()[0]
          return { x: b.x, y: b.y, height: b.height }
        }
      }
      return null
    }, text))!
    expect(words, text).not.toBeNull()
    expect(Math.abs(box.y + box.height / 2 - (words.y + words.height / 2)), `${text}: same line`).toBeLessThan(8)
    expect(words.x - (box.x + box.width), `${text}: right after the box`).toBeLessThan(16)
  }
  await page.screenshot({ path: join(shots, 'run-again.png'), fullPage: true })
})

test('1 200 runs: the table fetches pages as it scrolls and reaches the oldest run', async ({ page }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-history-'))
  const db = openDb(dbPathIn(dataDir))
  seedRuns(db, { strategies: ['precopy', 'dsm', 'postcopy'], workloads: ['idle', 'dirty:64M:50'], repetitions: 200, samplesPerSeries: 1, oneTransaction: true })
  db.close()
  const one = await serve(dataDir)
  await page.goto(`${one.origin}/?page=runs${new URL(one.url).hash}`)
  await expect(page.getByTestId('runs-count')).toContainText('1200 runs')
  // Only what is visible is rendered.
  expect(await page.getByTestId('run-row').count()).toBeLessThan(60)
  const ids = () => page.locator('[data-testid=run-row] [role=cell]:nth-child(3)').allTextContents()
  expect(await ids()).toContain('1200')
  for (let i = 0; i < 6; i++) {
    await page.locator('.vbody').evaluate((el) => el.scrollTo(0, el.scrollHeight))
    await page.waitForTimeout(150)
  }
  await expect.poll(ids).toContain('1')
})

/** Every chart drawn on the page has its PNG and SVG buttons, named for it. */
async function expectEveryChartExportable(page: Page): Promise<void> {
  const titles = await page.locator('figure.chart-figure .chart[role=img]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))
  expect(titles.length).toBeGreaterThan(0)
  for (const title of titles) {
    await expect(page.getByRole('button', { name: `Save ${title} as PNG`, exact: true }).first()).toBeVisible()
    await expect(page.getByRole('button', { name: `Save ${title} as SVG`, exact: true }).first()).toBeVisible()
  }
}
