import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inputs, type Method, type Results } from '../src/shared/api'
import { createCore } from '../src/main/core'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from '../test/fixtures/sshd'
import { expect, startServer, test } from './fixtures'

// The Setup page against a lab whose two nodes are the local sshd fixture (a real OpenSSH server on
// 127.0.0.1: a "node" that is this machine, which has QEMU and OpenMPI installed).
const skip = sshdUnavailable()
test.skip(skip !== null, skip ?? '')

let sshd: Sshd
let dataDir: string
test.beforeAll(async () => {
  sshd = await startSshd()
  dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-setup-'))
  // The lab is prepared through the core's own contract, as the Labs page would (covered by nodes.spec).
  const core = createCore({ dataDir, door: 'browser' })
  const call = <M extends Method>(m: M, input: unknown): Promise<Results[M]> => (core.handlers[m] as (i: unknown) => Promise<Results[M]>)(inputs[m].parse(input))
  const labId = (await call('labs.create', { name: 'wizard-lab' })).id
  for (const name of ['n1', 'n2']) await call('nodes.add', { labId, name, host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
  await call('nodes.connect', { nodeId: core.services.labs.get(labId)!.nodes[0].id }).catch(() => undefined)
  await call('hostKeys.trust', { host: '127.0.0.1', port: sshd.port, fingerprint: sshd.fingerprint() })
  await core.close()
})
test.afterAll(async () => {
  await sshd?.stop()
  if (sshd) removeSshdDir(sshd)
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

test('QEMU wizard: dry run shown, apply with progress, every step verified, a second run says already done', async ({ page }) => {
  test.setTimeout(240_000)
  const { server, child } = await startServer(dataDir)
  try {
    await page.goto(server.url)
    await page.getByRole('button', { name: 'Setup' }).click()
    const qemu = page.getByRole('region', { name: 'QEMU/KVM hypervisor wizard' })
    await expect(qemu.getByLabel('Wizard state')).toHaveText('not started')
    const steps = qemu.getByRole('list', { name: 'QEMU/KVM hypervisor steps' }).getByRole('listitem')
    await expect(steps).toHaveCount(7) // 3 per-node steps × 2 nodes + the lab's migration port

    await qemu.getByRole('button', { name: 'Dry run' }).click()
    const dry = qemu.getByLabel('Dry run')
    await expect(dry.getByRole('heading', { name: 'Dry run — nothing was changed' })).toBeVisible({ timeout: 90_000 })
    await expect(dry.getByLabel('Dry-run commands')).toBeVisible()
    await expect(dry.getByText(/QMP answers; QEMU \d+\.\d+\.\d+/).first()).toBeVisible()
    await expect(dry.getByText(/KVM usable|TCG fallback/).first()).toBeVisible()

    // The MPI wizard's dry run lists real commands (key trust, hostfile/rankfile): shown in the same screenshot.
    const mpi = page.getByRole('region', { name: 'MPI cluster (OpenMPI) wizard' })
    await mpi.getByRole('button', { name: 'Dry run' }).click()
    await expect(mpi.getByLabel('Dry run').getByRole('heading', { name: 'Dry run — nothing was changed' })).toBeVisible({ timeout: 90_000 })
    await page.screenshot({ path: 'docs/setup-wizard.png', fullPage: true })

    await qemu.getByRole('button', { name: 'Apply' }).click()
    await expect(qemu.getByRole('progressbar')).toBeVisible()
    await expect(qemu.getByLabel('Result').getByRole('heading', { name: 'Result' })).toBeVisible({ timeout: 120_000 })
    await expect(qemu.locator('.badge.succeeded')).toBeVisible()
    // Verify green: every step on every node passes, and the wizard is done.
    await expect(qemu.getByLabel('Wizard state')).toHaveText('done')
    for (const item of await steps.all()) await expect(item).toHaveClass(/\bpass\b/)

    // Second run: every step already done, nothing applied again.
    await qemu.getByRole('button', { name: 'Apply' }).click()
    const result = qemu.getByLabel('Result')
    await expect(result.getByRole('listitem')).toHaveCount(7, { timeout: 120_000 })
    for (const item of await result.getByRole('listitem').all()) await expect(item).toContainText('already done')
    await page.screenshot({ path: 'docs/setup-wizard-done.png', fullPage: true })
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
})
