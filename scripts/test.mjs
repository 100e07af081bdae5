// `npm test`: typecheck, build, unit + integration (vitest), end-to-end (Playwright in Chromium).
// Runs every stage even when one fails, prints each runner's summary, then one closing line.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { summaryLines } from './test-summary.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (pkg, file) => join(root, 'node_modules', pkg, file)
const reports = mkdtempSync(join(tmpdir(), 'miglab-test-reports-'))
const extra = process.argv.slice(2)

function stage(name, args, env = {}) {
  console.log(`\n━━ ${name} ━━`)
  const started = Date.now()
  const { status } = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } })
  return { name, ok: status === 0, seconds: (Date.now() - started) / 1000 }
}

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(join(reports, file), 'utf8'))
  } catch {
    return undefined
  }
}

const stages = [
  stage('typecheck', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json', '--noEmit']),
  stage('build', [bin('electron-vite', 'bin/electron-vite.js'), 'build']),
  stage('unit + integration (vitest)', [bin('vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${join(reports, 'vitest.json')}`, ...extra]),
  stage('end-to-end (playwright, chromium)', [bin('@playwright/test', 'cli.js'), 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_FILE: join(reports, 'playwright.json') }),
]

const { lines, failed } = summaryLines({
  vitest: readJson('vitest.json'),
  playwright: readJson('playwright.json'),
  stages,
  isRoot: process.getuid?.() === 0,
  root,
})
rmSync(reports, { recursive: true, force: true })
console.log('\n━━ summary ━━')
for (const line of lines) console.log(line)
process.exit(failed ? 1 : 0)
