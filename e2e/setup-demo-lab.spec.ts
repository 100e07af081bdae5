import { spawnSync, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCore } from '../src/main/core'
import { NFS } from '../src/main/setup/nfs'
import { expect, startServer, test } from './fixtures'

// Every wizard the demo lab can run (QEMU, NFS, MPI), from the Setup page, on the real demo lab:
// two network-namespace nodes with their own sshd, QEMU, OpenMPI, NFS-Ganesha and libnfs.
const skip = process.getuid?.() !== 0 ? 'the demo lab needs root (network namespaces)' : process.platform !== 'linux' ? 'the demo lab needs Linux' : null
test.skip(skip !== null, skip ?? '')

const PREFIX = 'mle2e' // what startServer gives `miglab serve`
const SUBNET = '198.19.213.0/24'
let dataDir: string
const ganeshaConfBefore = existsSync(NFS.ganeshaConf) ? readFileSync(NFS.ganeshaConf, 'utf8') : undefined
const srvBefore = existsSync(NFS.export)

test.beforeAll(async () => {
  test.setTimeout(240_000)
  dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-setup-demo-'))
  // The lab is built through the core (the Create-demo-lab flow is demo-lab.spec's); the page then sets it up.
  const core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
  await core.services.demoLab.up({ subnet: SUBNET, nodes: 2 }, { progress: () => {}, checkCancelled: () => {} })
  await core.close()
})

test.afterAll(() => {
  // `lab down` kills every process in the lab's namespaces (Ganesha and rpcbind included) and removes them;
  // the NFS wizard's files on this machine (the nodes share its files) go back to what they were.
  spawnSync(process.execPath, [fileURLToPath(new URL('../bin/miglab.mjs', import.meta.url)), 'lab', 'down'], { env: { ...process.env, MIGLAB_DATA_DIR: dataDir, MIGLAB_DEMO_PREFIX: PREFIX }, stdio: 'inherit' })
  rmSync(NFS.ganeshaExport, { force: true })
  if (ganeshaConfBefore !== undefined) writeFileSync(NFS.ganeshaConf, ganeshaConfBefore)
  rmSync(join(NFS.export, NFS.proof), { force: true })
  if (!srvBefore) rmSync(NFS.export, { recursive: true, force: true })
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

test('QEMU, NFS and MPI wizards on the demo lab: dry run, apply, every step verified, ping-pong and NFS proof shown, second run already done', async ({ page }) => {
  test.setTimeout(480_000)
  const { server, child } = await startServer(dataDir)
  try {
    await page.goto(server.url)
    await page.getByRole('button', { name: 'Setup' }).click()
    const wizards = [
      { name: 'QEMU/KVM hypervisor', steps: 7 },
      { name: 'NFS shared storage', steps: 5 },
      { name: 'MPI cluster (OpenMPI)', steps: 13 },
    ]
    const region = (name: string) => page.getByRole('region', { name: `${name} wizard` })

    for (const w of wizards) {
      const r = region(w.name)
      await expect(r.getByRole('list', { name: `${w.name} steps` }).getByRole('listitem')).toHaveCount(w.steps)
      await r.getByRole('button', { name: 'Dry run' }).click()
      await expect(r.getByLabel('Dry run').getByRole('heading', { name: 'Dry run — nothing was changed' })).toBeVisible({ timeout: 120_000 })
    }
    // What apply would do on a fresh demo lab: the NFS export (Ganesha started in node 1's namespace), the MPI trust, files and benchmark.
    await expect(region('NFS shared storage').getByLabel('Dry-run commands')).toContainText('ganesha.nfsd -f "$1"')
    await expect(region('MPI cluster (OpenMPI)').getByLabel('Dry-run commands')).toContainText('mpicc -O2')
    await expect(region('MPI cluster (OpenMPI)').getByLabel('Dry-run commands')).toContainText('btl_tcp_if_include')
    // MigLab's DSM runtime, built from the shipped source on every node.
    await expect(region('MPI cluster (OpenMPI)').getByLabel('Dry-run commands')).toContainText('mpicc -O2 -pthread -o "$t" "$t.c"')
    await page.screenshot({ path: 'docs/setup-demo-lab-dry-run.png', fullPage: true })

    for (const w of wizards) {
      const r = region(w.name)
      await r.getByRole('button', { name: 'Apply' }).click()
      await expect(r.getByLabel('Result').getByRole('heading', { name: 'Result' })).toBeVisible({ timeout: 180_000 })
      await expect(r.getByLabel('Wizard state')).toHaveText('done')
      // Verify green: every step on every node passes.
      for (const item of await r.getByRole('list', { name: `${w.name} steps` }).getByRole('listitem').all()) await expect(item).toHaveClass(/\bpass\b/)
    }

    // The ping-pong's figures: one row per message size, both charts drawn.
    const mpi = region('MPI cluster (OpenMPI)')
    const figures = mpi.getByLabel('Ping-pong results')
    await expect(figures).toContainText('Ranks on mle2e-n1 and mle2e-n2')
    await expect(figures.getByRole('table', { name: 'Ping-pong figures' }).locator('tbody tr')).toHaveCount(10)
    await expect(figures.getByRole('img', { name: 'Latency per message size' })).toBeVisible()
    await expect(figures.getByRole('img', { name: 'Bandwidth per message size' })).toBeVisible()
    const first = figures.getByRole('table', { name: 'Ping-pong figures' }).locator('tbody tr').first()
    await expect(first.locator('td').first()).toHaveText('8 B')
    expect(Number(await first.locator('td').nth(2).textContent())).toBeGreaterThan(0)

    // The NFS proof: node 2 read the bytes node 1 wrote, over NFS, with the same sha256.
    const proof = region('NFS shared storage').getByRole('table', { name: 'NFS checksums' })
    const sums = await proof.locator('tbody tr td.mono').allTextContents()
    expect(sums).toHaveLength(2)
    expect(sums[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(sums[1]).toBe(sums[0])
    expect(sums[0]).toBe(execFileSync('sha256sum', [join(NFS.export, NFS.proof)], { encoding: 'utf8' }).split(' ')[0])
    await expect(proof.locator('tbody tr').nth(1)).toContainText('mle2e-n2 (read over NFS)')
    await expect(proof.locator('tbody tr').nth(1).locator('td').nth(2)).toHaveText('yes')
    await page.screenshot({ path: 'docs/setup-demo-lab-done.png', fullPage: true })

    // The optional Grappa step says why it did nothing: no source was given.
    await expect(region('MPI cluster (OpenMPI)').getByLabel('Result').getByRole('listitem').filter({ hasText: 'Grappa' }).first()).toContainText('skipped (optional): no Grappa source given')
    // Second run: every step of every wizard is already done (the optional Grappa step: skipped).
    for (const w of wizards) {
      const r = region(w.name)
      await r.getByRole('button', { name: 'Apply' }).click()
      const result = r.getByLabel('Result')
      await expect(result.getByRole('listitem')).toHaveCount(w.steps, { timeout: 180_000 })
      for (const item of await result.getByRole('listitem').all()) await expect(item).toContainText(/already done|skipped \(optional\): no Grappa source given/)
    }

    // The lab page shows each wizard's state; "Check again" re-runs only the checks. The head node's
    // ping-pong result removed behind MigLab's back: the MPI wizard, once done, is found drifted.
    await page.getByRole('button', { name: 'Labs' }).click()
    await page.getByRole('link', { name: 'demo' }).click()
    const checklist = page.getByRole('list', { name: 'Setup checklist' })
    for (const w of wizards) await expect(checklist.getByLabel(`${w.name} state`)).toHaveText('done')
    rmSync(join(dataDir, 'demo-lab', PREFIX, `${PREFIX}-n1`, 'dot-miglab', 'mpi', 'pingpong.out'))
    const mpiRow = checklist.locator('li[data-wizard="mpi"]')
    await mpiRow.getByRole('button', { name: 'Check again' }).click()
    await expect(checklist.getByLabel('MPI cluster (OpenMPI) state')).toHaveText(/^drifted/, { timeout: 60_000 })
    await expect(checklist.getByLabel('QEMU/KVM hypervisor state')).toHaveText('done')
    await page.screenshot({ path: 'docs/setup-lab-page-drifted.png', fullPage: true })
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
})
