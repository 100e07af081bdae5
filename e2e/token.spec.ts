import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { expect, test } from './fixtures'

/** `miglab serve --open` with a fake opener first on PATH; resolves once it printed its address. */
async function serveWithOpener(path: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'miglab-e2e-'))
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/miglab.mjs', import.meta.url)), 'serve', '--port', '0', '--open'], {
    env: { ...process.env, PATH: path, MIGLAB_DATA_DIR: dataDir, MIGLAB_DEMO_PREFIX: 'mle2e' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`miglab serve exited (${code}):\n${out}`)))
  })
  return { server: { url, origin: new URL(url).origin, dataDir }, child }
}

// The session token never stays in the address bar, survives a reload of the tab, and `--open`
// hands it to the browser without putting it on any command line.

test('the token leaves the address bar at once and a reload keeps working', async ({ page, miglab }) => {
  await page.goto(miglab.url)
  await expect(page.getByRole('heading', { name: /Measure live VM migration/ })).toBeVisible()
  expect(page.url()).not.toContain('token')
  expect(page.url()).not.toContain(new URL(miglab.url).hash.slice(1))
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Labs' }).click()
  await expect(page.getByRole('heading', { level: 1, name: 'Labs', exact: true })).toBeVisible()
  expect(page.url()).not.toContain('token')
  await page.reload()
  await expect(page.getByRole('heading', { level: 1, name: 'Labs', exact: true })).toBeVisible()
  await expect(page.getByText('no access token')).toHaveCount(0)
  // A fresh tab on the bare address has no token: it says what to open instead.
  const other = await page.context().newPage()
  await other.goto(miglab.origin)
  await expect(other.getByText('This address has no access token.')).toBeVisible()
})

test('--open passes the browser a private file, never the token, and its one-time code works once', async ({ page }) => {
  const fake = mkdtempSync(join(tmpdir(), 'miglab-opener-'))
  const log = join(fake, 'argv.log')
  writeFileSync(join(fake, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\n`)
  chmodSync(join(fake, 'xdg-open'), 0o755)
  const { server, child } = await serveWithOpener(`${fake}:${process.env.PATH}`)
  try {
    await expect.poll(() => existsSync(log)).toBe(true)
    const argv = readFileSync(log, 'utf8').trim().split('\n')
    const token = new URL(server.url).hash.replace('#token=', '')
    expect(argv.join(' ')).not.toContain(token)
    expect(argv).toHaveLength(1)
    const file = argv[0]
    expect(file.startsWith(server.dataDir)).toBe(true)
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600')
    expect(readFileSync(file, 'utf8')).not.toContain(token)

    await page.goto(pathToFileURL(file).href)
    await expect(page.getByRole('heading', { name: /Measure live VM migration/ })).toBeVisible()
    expect(page.url()).toBe(`${server.origin}/`)
    // The same page again: its code is spent, and the page says so instead of letting anyone in.
    const again = await page.context().newPage()
    await again.goto(pathToFileURL(file).href)
    await expect(again.getByText(/already used or has expired/)).toBeVisible()
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    rmSync(server.dataDir, { recursive: true, force: true })
    rmSync(fake, { recursive: true, force: true })
  }
})
