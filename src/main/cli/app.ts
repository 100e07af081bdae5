import type { Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createCore } from '../core'
import { openBrowserDoor } from '../doors/http-ws'
import { openInBrowser } from '../doors/open-browser'
import { dbPathIn, resolveDataDir } from '../paths'
import { runDoctor } from '../system/doctor'
import { which } from '../system/which'
import { MigLabError } from '../../shared/errors'
import { shown } from './words'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const rendererDir = join(root, 'out', 'renderer')

/** Browser mode needs the built renderer; build it once if this checkout has none yet. */
function ensureRenderer(): void {
  if (existsSync(join(rendererDir, 'index.html'))) return
  console.error('MigLab: building the user interface once (npm run build)…')
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (result.status !== 0) throw new Error('Building the user interface failed; see the output above.')
}

async function serve(options: { port: string; open?: boolean }): Promise<void> {
  const port = /^\d{1,5}$/.test(options.port.trim()) ? Number(options.port) : NaN
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MigLabError('invalid_argument', `--port must be 0..65535, not ${shown(options.port)}.`, { hint: 'Give a free TCP port, or 0 to let MigLab pick one.' })
  }
  ensureRenderer()
  const dataDir = resolveDataDir()
  const core = createCore({ dataDir, door: 'browser' })
  const door = await openBrowserDoor({ core, rendererDir, port })
  console.log(`MigLab browser mode: ${door.url}`)
  console.log('Open that address (it carries this session\'s access token). Ctrl+C stops MigLab.')
  // Never the token on the opener's command line: a 0600 redirect page in the private data dir and a one-time code.
  let opened: { remove(): void } | undefined
  if (options.open) {
    const opener = which('xdg-open') ?? which('chromium')
    if (opener) opened = openInBrowser(door, dataDir, opener)
  }
  const stop = async () => {
    opened?.remove()
    await door.close()
    await core.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}

async function doctor(options: { json?: boolean }): Promise<void> {
  const checks = await runDoctor()
  if (options.json) {
    console.log(JSON.stringify(checks, null, 2))
    return
  }
  const mark = { ok: '✔', warn: '!', missing: '✘' } as const
  for (const c of checks) {
    console.log(`${mark[c.status]} ${c.label.padEnd(42)} ${c.found}`)
    if (c.hint && c.status !== 'ok') console.log(`    → ${c.hint}`)
  }
}

/** serve, doctor, db: the foundation's commands. */
export function registerAppCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the MigLab UI in a browser, on 127.0.0.1 with a per-start token')
    .option('-p, --port <port>', 'TCP port (0 = any free port)', '0')
    .option('--open', 'open the address in the default browser')
    .action(serve)

  program.command('doctor').description('what this machine offers MigLab, and how to fix what is missing').option('--json', 'machine-readable output').action(doctor)

  program
    .command('db')
    .description('the history database')
    .command('path')
    .description('print where the SQLite history lives')
    .action(() => console.log(dbPathIn(resolveDataDir())))
}
