import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from '../test/fixtures/sshd'
import { expect, test } from './fixtures'

// A real OpenSSH server on 127.0.0.1 stands in for a lab node: the flow is the one a user follows
// with real hardware — add, trust on first use, preflight, terminal, then a changed host key.
const skip = sshdUnavailable()
test.skip(skip !== null, skip ?? '')
test.describe.configure({ mode: 'serial' })

let sshd: Sshd
test.beforeAll(async () => {
  sshd = await startSshd()
})
test.afterAll(async () => {
  await sshd?.stop()
  if (sshd) removeSshdDir(sshd)
})

test('add a node, accept its fingerprint, preflight, terminal, then a changed key is refused until replaced', async ({ page, miglab }) => {
  test.setTimeout(180_000)
  await page.goto(miglab.url)
  await page.getByRole('button', { name: 'Labs' }).click()
  const addLab = page.getByRole('form', { name: 'Add a lab' })
  await addLab.getByLabel('Name').fill('bench-lab')
  await addLab.getByRole('button', { name: 'Add lab' }).click()
  await page.getByRole('link', { name: 'bench-lab' }).click()

  const form = page.getByRole('form', { name: 'Add a node' })
  await form.getByLabel('Name', { exact: true }).fill('node-a')
  await form.getByLabel('Host', { exact: true }).fill(sshd.host)
  await form.getByLabel('Port', { exact: true }).fill(String(sshd.port))
  await form.getByLabel('User', { exact: true }).fill('root')
  await form.getByLabel('Private key file').fill(sshd.clientKey)
  // Browser mode keeps secrets in memory only, and the form says so where they are typed.
  await expect(form.getByTestId('secrets-note')).toHaveAttribute('data-kind', 'memory')
  await expect(form.getByTestId('secrets-note')).toContainText('in memory only for this session')
  await form.getByRole('button', { name: 'Add node' }).click()

  const node = page.getByRole('article', { name: 'Node node-a' })
  await node.getByRole('button', { name: 'Connect' }).click()
  const prompt = node.getByRole('dialog', { name: 'Unknown host key' })
  await expect(prompt.getByTestId('fingerprint')).toHaveText(sshd.fingerprint())
  const before = sshd.logSize()
  await prompt.getByRole('button', { name: 'Trust and connect' }).click()
  await expect(node.getByTestId('node-state')).toHaveText('connected')
  expect(sshd.log(before)).toMatch(/Accepted publickey for root/)

  await node.getByRole('button', { name: 'Preflight' }).click()
  const checklist = node.getByRole('list', { name: 'Preflight of node-a' })
  await expect(checklist).toBeVisible({ timeout: 60_000 })
  await expect(checklist).toContainText('Operating system')
  await expect(checklist).toContainText('Clock offset to this machine')

  // Terminal: type a command and see its output in xterm.js.
  await node.getByRole('button', { name: 'Terminal' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Terminals' })).toBeVisible()
  await page.getByRole('button', { name: 'New terminal' }).click()
  const terminal = page.getByTestId('terminal').first()
  await expect(terminal).toHaveAttribute('data-terminal-id', /.+/)
  await terminal.locator('.xterm').click()
  await page.keyboard.type('echo hi-$((6*7))\n')
  await expect(terminal.locator('.xterm-rows')).toContainText('hi-42')

  // The node's host key changes: MigLab refuses, explains, and replaces only after confirmation.
  await sshd.stop()
  sshd.regenerateHostKey()
  await sshd.start()
  await page.goto(`${miglab.origin}/?page=labs${new URL(miglab.url).hash}`)
  await page.getByRole('link', { name: 'bench-lab' }).click()
  const again = page.getByRole('article', { name: 'Node node-a' })
  const beforeRefusal = sshd.logSize()
  await again.getByRole('button', { name: 'Connect' }).click()
  const warning = again.getByRole('alertdialog', { name: 'Host key changed' })
  await expect(warning).toContainText('has changed')
  await expect(warning.getByTestId('new-fingerprint')).toHaveText(sshd.fingerprint())
  // sshd writes its log a moment after the connection: wait until the refused connection's end is
  // logged (evidence the attempt is in the log), then check that no login came with it.
  await expect.poll(() => sshd.log(beforeRefusal), { timeout: 15_000 }).toMatch(/Connection from 127\.0\.0\.1[\s\S]*(Connection closed by|Disconnected from|Received disconnect from) [^\n]*\[preauth\]/)
  expect(sshd.log(beforeRefusal)).not.toMatch(/Accepted publickey|Failed |Postponed/)
  page.once('dialog', (d) => void d.accept())
  await warning.getByRole('button', { name: 'Replace key…' }).click()
  await expect(again.getByTestId('node-state')).toHaveText('connected')
})
