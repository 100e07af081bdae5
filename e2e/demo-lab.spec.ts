import { expect, miglabCli, test } from './fixtures'

// The real demo lab: network namespaces, two sshd nodes and a bridge on this machine (needs root).
const skip = process.getuid?.() !== 0 ? 'the demo lab needs root (network namespaces)' : process.platform !== 'linux' ? 'the demo lab needs Linux' : null
test.skip(skip !== null, skip ?? '')

test.afterEach(({ miglab }) => {
  // Whatever happened in the test, leave no namespace or process behind.
  miglabCli(miglab.dataDir, 'lab', 'down')
})

test('first run → Create demo lab → progress → the lab page shows two reachable nodes', async ({ page, miglab }) => {
  test.setTimeout(240_000)
  await page.goto(miglab.url)
  await page.getByRole('button', { name: 'Create demo lab' }).click()
  const bar = page.getByRole('progressbar')
  await expect(bar).toBeVisible()
  await expect(bar).toHaveAttribute('aria-valuetext', /.+/)

  // When the job succeeds MigLab opens the demo lab's page.
  await expect(page.getByRole('heading', { level: 1, name: 'demo' })).toBeVisible({ timeout: 200_000 })
  const panel = page.getByRole('region', { name: 'Demo lab on this machine' })
  await expect(panel.getByTestId('demo-state')).toHaveText('up')
  await expect(panel.getByTestId('demo-node')).toHaveCount(2)
  await expect(panel.getByTestId('reachable')).toHaveText(['✔ reachable', '✔ reachable'])
  await expect(page.getByTestId('node')).toHaveCount(2)
  await page.screenshot({ path: 'docs/demo-lab.png', fullPage: true })

  // The nodes are ordinary SSH nodes now: connecting needs no prompt (their keys were trusted at creation).
  const first = page.getByTestId('node').first()
  await first.getByRole('button', { name: 'Connect' }).click()
  await expect(first.getByTestId('node-state')).toHaveText('connected')
})
