import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { expect, test } from './fixtures'

// The UI names bad input by its own form labels, and says plainly what a demo-lab terminal is.

test('a hostile lab name is refused by the form field that holds it, and nothing runs', async ({ page, miglab }) => {
  const marker = `/tmp/PWNED-ui-${process.pid}`
  await page.goto(miglab.url)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Labs' }).click()
  const form = page.getByRole('form', { name: 'Add a lab' })
  await form.getByLabel('Name').fill(`x;$(touch ${marker})`)
  await form.getByRole('button', { name: 'Add lab' }).click()
  const alert = form.getByRole('alert')
  await expect(alert).toContainText('This field needs a change:')
  await expect(alert).toContainText('Name: letters, digits, space, dot, dash and underscore only')
  await expect(alert).not.toContainText('labs.create')
  await expect(alert).not.toContainText('highlighted')
  expect(existsSync(marker)).toBe(false)
})

test("a demo-lab node's terminal says it is a root shell on this machine; a real node's does not", async ({ page, miglab }) => {
  // Rows as the app stores them; the hosts are closed ports, so only the banner is under test.
  const db = new Database(miglab.dbPath)
  const now = new Date().toISOString()
  for (const [lab, kind] of [['demo', 'demo'], ['rack', 'real']]) {
    const id = db.prepare('INSERT INTO labs (name, kind, created_at) VALUES (?, ?, ?)').run(lab, kind, now).lastInsertRowid
    db.prepare("INSERT INTO nodes (lab_id, name, host, port, user, auth, created_at) VALUES (?, 'n1', '127.0.0.1', 1, 'root', '{\"kind\":\"agent\"}', ?)").run(id, now)
  }
  db.close()
  await page.goto(miglab.url)
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Terminals' }).click()
  await page.getByLabel('Node').selectOption({ label: 'demo/n1' })
  await page.getByRole('button', { name: 'New terminal' }).click()
  const shown = () => page.locator('[data-testid="terminal"]:not([hidden])')
  await expect(shown().getByRole('note')).toHaveText('Demo-lab node: a network namespace on this machine, not a VM — this terminal is a root shell on this machine.')
  await page.getByLabel('Node').selectOption({ label: 'rack/n1' })
  await page.getByRole('button', { name: 'New terminal' }).click()
  await expect(page.getByRole('tab', { name: /rack\/n1/ })).toHaveAttribute('aria-selected', 'true')
  await expect(shown()).toHaveCount(1)
  // The demo tab behind it is hidden, banner included (only the active tab's terminal shows).
  await expect(page.getByRole('note')).toHaveCount(0)
})
