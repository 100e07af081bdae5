import type { Page } from '@playwright/test'
import Database from 'better-sqlite3'
import { migrate } from './experiment'
import { expect, miglabCli, test } from './fixtures'

// Real live migrations of the demo lab's QEMU guest between two sshd nodes, driven from the UI.
const skip = process.getuid?.() !== 0 ? 'the demo lab needs root (network namespaces)' : null
test.skip(skip !== null, skip ?? '')

test.afterEach(({ miglab }) => {
  miglabCli(miglab.dataDir, 'lab', 'down')
})

const mibOf = async (page: Page, testId: string) => Number.parseFloat((await page.getByTestId(testId).locator('.value').textContent()) ?? 'NaN')

test('boot the guest on node A, migrate A→B pre-copy, then back with DSM', async ({ page, miglab }) => {
  test.setTimeout(420_000)
  const up = miglabCli(miglab.dataDir, 'lab', 'up', '--demo')
  expect(up.status, up.stderr).toBe(0)

  await page.goto(`${miglab.origin}/?page=migrate${new URL(miglab.url).hash}`)
  await expect(page.getByRole('heading', { level: 1, name: 'Migrate' })).toBeVisible()

  // Pre-copy A → B with the UDP echo workload and the external probe.
  await migrate(page, { from: 'mle2e-n1', to: 'mle2e-n2', strategy: /^Pre-copy \(baseline\)/ })
  const log = page.getByLabel('Migration log')
  await expect(log).toContainText('migration finished successfully')
  for (const id of ['metric-qemu_downtime_ms', 'metric-stop_resume_ms', 'metric-probe_gap_ms']) {
    await expect(page.getByTestId(id).locator('.value')).toHaveText(/^\d/)
  }
  const precopySent = await mibOf(page, 'data-sent')
  expect(precopySent).toBeGreaterThan(10)
  await expect(page.getByRole('img', { name: 'Migration timeline' })).toBeVisible()
  await expect(page.getByRole('img', { name: /What a client saw/ })).toBeVisible()
  // The gap on the wire (tcpdump on both taps): its parts as a bar, and the switchover up close.
  const breakdown = page.getByTestId('gap-breakdown')
  await expect(breakdown).toBeVisible()
  for (const part of ['gap_downtime_ms', 'gap_convergence_ms', 'gap_warmup_ms', 'gap_return_ms']) await expect(breakdown.getByTestId(`metric-${part}`)).toContainText(/\d ms/)
  const closeUp = page.getByRole('img', { name: /The switchover up close/ })
  await expect(closeUp).toBeVisible()
  await closeUp.scrollIntoViewIfNeeded()
  const [a, b] = [await breakdown.boundingBox(), await closeUp.boundingBox()]
  if (a && b) await page.screenshot({ path: 'docs/gap-decomposition.png', clip: { x: Math.min(a.x, b.x) - 8, y: a.y - 8, width: Math.max(a.width, b.width) + 16, height: b.y + b.height - a.y + 16 } })

  // The guest now runs on B (and only there).
  await page.reload()
  await expect(page.getByText(/Running: guest on mle2e-n2 \(running/)).toBeVisible({ timeout: 30_000 })

  // Back B → A with shared memory: only device state moves.
  await migrate(page, { from: 'mle2e-n2', to: 'mle2e-n1', strategy: /^Shared memory \(same host\)/ })
  await expect(page.getByLabel('Migration log')).toContainText('strategy dsm')
  const dsmSent = await mibOf(page, 'data-sent')
  expect(dsmSent).toBeLessThan(precopySent * 0.05)
  await page.screenshot({ path: 'docs/migration-run.png', fullPage: true })

  // Both runs are in the history and compare side by side.
  const db = new Database(miglab.dbPath, { readonly: true })
  const stored = db.prepare('SELECT id, strategy, status, job_id, started_at FROM runs ORDER BY id').all()
  db.close()
  expect(stored, JSON.stringify(stored)).toHaveLength(2)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs' }).click()
  await expect(page.getByTestId('run-row')).toHaveCount(2)
  for (const box of await page.getByRole('checkbox', { name: /Select run/ }).all()) await box.check()
  await page.getByRole('button', { name: /Compare 2 selected/ }).click()
  await expect(page.getByTestId('compare')).toContainText('baseline precopy')
  await expect(page.getByRole('img', { name: 'Hypervisor downtime' })).toBeVisible()
  await page.screenshot({ path: 'docs/compare.png', fullPage: true })
})
