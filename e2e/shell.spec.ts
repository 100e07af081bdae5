import Database from 'better-sqlite3'
import { expect, test } from './fixtures'

test.describe.configure({ mode: 'serial' })

test('first run explains MigLab, offers the demo lab and checks this machine', async ({ page, miglab }) => {
  await page.goto(miglab.url)
  await expect(page.getByRole('heading', { name: /Measure live VM migration/ })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Create demo lab' })).toBeVisible()
  const machine = page.getByRole('list', { name: 'This machine' })
  await expect(machine.getByText('QEMU', { exact: true })).toBeVisible()
  await expect(machine.getByText('Electron runtime')).toBeVisible()
  await page.screenshot({ path: 'docs/first-run.png' })
})

test('navigation reaches every page and survives a reload', async ({ page, miglab }) => {
  await page.goto(miglab.url)
  for (const [nav, heading] of [
    ['Runs', 'Runs'],
    ['Setup', 'Setup wizards'],
    ['Migrate', 'Migrate'],
    ['Terminals', 'Terminals'],
    ['Labs', 'Labs'],
  ]) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: nav }).click()
    await expect(page.getByRole('heading', { level: 1, name: heading, exact: true })).toBeVisible()
  }
  await page.getByRole('button', { name: 'Runs' }).click()
  await page.reload()
  await expect(page.getByRole('heading', { level: 1, name: 'Runs' })).toBeVisible()
  // The page stays in the address; the token does not (it lives in this tab's sessionStorage).
  await expect(page).toHaveURL(/\/\?page=runs$/)
})

test('a lab added in the UI goes through the WebSocket into SQLite and back', async ({ page, miglab }) => {
  await page.goto(miglab.url)
  await page.getByRole('button', { name: 'Labs' }).click()
  const form = page.getByRole('form', { name: 'Add a lab' })
  await form.getByLabel('Name').fill('concordia-testbed')
  await form.getByLabel('Description').fill('Two XenServer hosts with NFS')
  await form.getByRole('button', { name: 'Add lab' }).click()
  await expect(page.getByTestId('lab-card').filter({ hasText: 'concordia-testbed' })).toBeVisible()

  const db = new Database(miglab.dbPath, { readonly: true })
  expect(db.prepare('SELECT name, kind, description FROM labs').all()).toEqual([
    { name: 'concordia-testbed', kind: 'real', description: 'Two XenServer hosts with NFS' },
  ])
  db.close()

  await page.reload()
  await expect(page.getByTestId('lab-card').filter({ hasText: 'concordia-testbed' })).toBeVisible()

  // The same name twice is refused with the reason, and nothing is lost.
  await form.getByLabel('Name').fill('concordia-testbed')
  await form.getByRole('button', { name: 'Add lab' }).click()
  await expect(page.getByRole('alert')).toContainText('already exists')
  await expect(page.getByTestId('lab-card')).toHaveCount(1)
})

test('an address without the token explains how to get in', async ({ page, miglab }) => {
  await page.goto(miglab.origin + '/')
  await expect(page.getByRole('alert')).toContainText('no access token')
})
