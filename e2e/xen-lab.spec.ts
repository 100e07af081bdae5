import type { Page } from '@playwright/test'
import Database from 'better-sqlite3'
import { xenLabSkipReason } from '../test/fixtures/xen-lab'
import { migrate } from './experiment'
import { expect, miglabCli, test } from './fixtures'

// Two real Xen 4.17 hosts (QEMU TCG guests), created from the first-run screen and driven with xl from
// the UI; then a QEMU run on the namespace demo lab, and both side by side in Compare.
test.skip(!!xenLabSkipReason, xenLabSkipReason ?? '')

test.afterEach(({ miglab }) => {
  // Both demo labs, whatever happened: no Xen host, namespace or guest outlives the test.
  miglabCli(miglab.dataDir, 'lab', 'down')
})

// The guest prints its uptime on its console every second; dom0 logs the console (xenconsoled --log=guest).
const UPTIME = 'while :; do echo "uptime $(cut -d. -f1 /proc/uptime)"; sleep 1; done'
const XL = { strategy: /^Pre-copy \(baseline\)/, custom: UPTIME, probeIntervalMs: 10, reuseGuest: true }
const [A, B] = ['mxe2e-n1', 'mxe2e-n2']

/** The smallest or largest uptime a dom0 logged for the guest, read in a terminal on that node (as a user would). */
async function loggedUptime(page: Page, node: string, file: 'guest' | 'guest--incoming', pick: 'min' | 'max'): Promise<number> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Terminals' }).click()
  await page.getByRole('combobox', { name: 'Node' }).selectOption({ label: `demo-xen/${node}` })
  await page.getByRole('button', { name: 'New terminal' }).click()
  const terminal = page.locator('[data-testid="terminal"]:visible')
  await expect(terminal).toHaveAttribute('data-terminal-id', /.+/)
  await terminal.locator('.xterm').click()
  const tag = `${pick.toUpperCase()}${file === 'guest' ? 'HOME' : 'ARRIVED'}`
  await page.keyboard.type(`echo ${tag}=$(tr -d '\\r' < /var/log/xen/console/guest-${file}.log | sed -n 's/^uptime //p' | sort -n | ${pick === 'min' ? 'head' : 'tail'} -n1)\n`)
  const shown = terminal.locator('.xterm-rows')
  await expect(shown).toContainText(new RegExp(`${tag}=\\d+`), { timeout: 30_000 })
  const value = Number(new RegExp(`${tag}=(\\d+)`).exec((await shown.textContent()) ?? '')![1])
  await page.getByRole('button', { name: /^Close / }).last().click()
  return value
}

/** The run view of an xl run: the client gap, the phase timeline and data sent, each as stored. */
async function expectXlRunView(page: Page, dbPath: string) {
  const db = new Database(dbPath, { readonly: true })
  const stored = db.prepare('SELECT metrics FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as string
  db.close()
  const m = JSON.parse(stored) as Record<string, number>
  await expect(page.getByLabel('Migration log')).toContainText('migration finished successfully')
  await expect(page.getByTestId('metric-probe_gap_ms').locator('.value')).toHaveText(m.probe_gap_ms >= 10_000 ? `${(m.probe_gap_ms / 1000).toFixed(1)} s` : `${Math.round(m.probe_gap_ms * 10) / 10} ms`)
  // What libxl does not report says so, with the reason, instead of a number.
  await expect(page.getByTestId('metric-qemu_downtime_ms')).toContainText('not measured: libxl reports no downtime')
  // Data sent: the source dom0's NIC counter (libxl has no byte count), and at least the guest's 128 MiB.
  const sent = page.getByTestId('data-sent')
  await expect(sent).toHaveAttribute('data-source', 'src_tx_bytes')
  await expect(sent.locator('.value')).toHaveText(`${(m.src_tx_bytes / 1048576).toFixed(1)} MiB`)
  expect(m.src_tx_bytes).toBeGreaterThan(100 * 2 ** 20)
  // The phase timeline: xl's announcements in order, the gap drawn under them.
  const phases = page.getByTestId('phase-timeline')
  await expect(phases).toContainText('until target ready')
  await expect(phases).toContainText('until restored on target')
  await expect(phases).toContainText('until started on target')
  await expect(phases.getByTestId('phase-gap')).toBeVisible()
  await expect(page.getByRole('img', { name: /What a client saw/ })).toBeVisible()
  return m
}

test('Xen demo lab from the first-run screen: boot on A, xl migrate A→B and back; a QEMU run beside them in Compare', async ({ page, miglab }) => {
  test.setTimeout(1_800_000)
  await page.goto(miglab.url)
  await page.getByRole('button', { name: 'Create Xen demo lab' }).click()
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuetext', /.+/)
  await expect(page.getByRole('heading', { level: 1, name: 'demo-xen' })).toBeVisible({ timeout: 900_000 })
  const panel = page.getByRole('region', { name: 'Two Xen hosts on this machine (xl)' })
  await expect(panel.getByTestId('demo-state')).toHaveText('up')
  await expect(panel.getByTestId('reachable')).toHaveText(['✔ reachable', '✔ reachable'])

  // A → B: the guest boots on A, then moves.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Migrate' }).click()
  await migrate(page, { from: A, to: B, ...XL }, 600_000)
  const there = await expectXlRunView(page, miglab.dbPath)
  await page.getByTestId('phase-timeline').screenshot({ path: 'docs/xl-phase-timeline.png' })
  const lastOnA = await loggedUptime(page, A, 'guest', 'max')
  const firstOnB = await loggedUptime(page, B, 'guest--incoming', 'min')
  // No reboot: B's console continues where A's stopped (a rebooted guest would start near 0).
  expect(firstOnB).toBeGreaterThanOrEqual(lastOnA)

  // B → A: the same guest, kept running, comes back.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Migrate' }).click()
  await migrate(page, { from: B, to: A, ...XL }, 600_000)
  const back = await expectXlRunView(page, miglab.dbPath)
  const lastOnB = await loggedUptime(page, B, 'guest--incoming', 'max')
  const backOnA = await loggedUptime(page, A, 'guest--incoming', 'min')
  expect(backOnA).toBeGreaterThanOrEqual(lastOnB)
  expect(lastOnB).toBeGreaterThan(firstOnB)
  console.log(`xl A→B gap ${there.probe_gap_ms.toFixed(0)} ms, total ${there.total_ms.toFixed(0)} ms; B→A gap ${back.probe_gap_ms.toFixed(0)} ms, total ${back.total_ms.toFixed(0)} ms; uptime ${lastOnA}→${firstOnB} … ${lastOnB}→${backOnA} s`)

  // The Xen hosts go (they take both cores); the QEMU demo lab comes, and the same experiment runs there.
  const down = miglabCli(miglab.dataDir, 'lab', 'down', '--hypervisor', 'xen')
  expect(down.status, down.stderr).toBe(0)
  const up = miglabCli(miglab.dataDir, 'lab', 'up', '--demo')
  expect(up.status, up.stderr).toBe(0)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Migrate' }).click()
  await page.getByRole('form', { name: 'Experiment' }).getByRole('combobox', { name: 'Lab' }).selectOption({ label: 'demo' })
  await migrate(page, { from: 'mle2e-n1', to: 'mle2e-n2', strategy: /^Pre-copy \(baseline\)/, custom: UPTIME, probeIntervalMs: 10 })

  // Compare: the runs of each hypervisor form their own group, and every chart has both.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs' }).click()
  await expect(page.getByTestId('run-row')).toHaveCount(3)
  for (const box of await page.getByRole('checkbox', { name: /Select run/ }).all()) await box.check()
  await page.getByRole('button', { name: /Compare 3 selected/ }).click()
  const compare = page.getByTestId('compare')
  const stats = compare.getByRole('table', { name: 'Statistics' })
  await expect(stats).toContainText('qemu · precopy')
  await expect(stats).toContainText('xl · precopy')
  // Figures both drivers measure: a bar for each, no "not measured".
  for (const [title, key] of [
    ['Client-observed gap', 'probe_gap_ms'],
    ['Total migration time', 'total_ms'],
    ['Source NIC sent', 'src_tx_bytes'],
  ]) {
    await expect(compare.getByRole('img', { name: title })).toBeVisible()
    await expect(compare.getByTestId(`absent-${key}`)).toHaveCount(0)
  }
  // QEMU-only figures: QEMU's bar, and xl's slot says why it has none.
  for (const [title, key, why] of [
    ['Hypervisor downtime', 'qemu_downtime_ms', 'libxl reports no downtime'],
    ['STOP → RESUME', 'stop_resume_ms', 'no STOP to pair'],
    ['Data sent', 'transferred_bytes', 'libxl reports no byte count'],
  ]) {
    await expect(compare.getByRole('img', { name: title, exact: true })).toBeVisible()
    await expect(compare.getByTestId(`absent-${key}`)).toContainText(`xl · precopy`)
    await expect(compare.getByTestId(`absent-${key}`)).toContainText(why)
    await expect(compare.getByTestId(`absent-${key}`)).not.toContainText('qemu ·')
  }
  await compare.screenshot({ path: 'docs/compare-qemu-xen.png' })
})
