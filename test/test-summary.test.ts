import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM script without types
import { summaryLines } from '../scripts/test-summary.mjs'
import { tempDir } from './helpers'

type Summary = { lines: string[]; failed: boolean }
const summarise = summaryLines as (r: { vitest?: unknown; playwright?: unknown; stages: { name: string; ok: boolean; seconds: number }[]; isRoot: boolean; root: string }) => Summary

// A real vitest JSON report: one suite that runs, one that skips itself as the root-only suites do.
const dir = tempDir()
let report: unknown
beforeAll(() => {
  writeFileSync(join(dir, 'runs.test.mjs'), "import { it, expect } from 'vitest'\nit('runs', () => expect(1).toBe(1))\n")
  writeFileSync(join(dir, 'needs-root.test.mjs'), "import { describe, it } from 'vitest'\ndescribe.skipIf(true)('demo lab', () => { it('migrates', () => {}) })\n")
  const vitest = join(__dirname, '..', 'node_modules', 'vitest', 'vitest.mjs')
  const out = join(dir, 'report.json')
  spawnSync(process.execPath, [vitest, 'run', '--root', dir, '--reporter=json', `--outputFile.json=${out}`], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  report = JSON.parse(readFileSync(out, 'utf8'))
}, 90_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const stages = [{ name: 'unit + integration (vitest)', ok: true, seconds: 1 }]
const playwright = { stats: { expected: 2, flaky: 0, unexpected: 0, skipped: 1 }, suites: [{ file: 'demo-lab.spec.ts', specs: [{ tests: [{ status: 'skipped' }] }] }, { file: 'shell.spec.ts', specs: [{ tests: [{ status: 'expected' }] }] }] }

describe('npm test summary', () => {
  it('as non-root, says loudly how many integration suites were skipped and which', () => {
    const { lines, failed } = summarise({ vitest: report, playwright, stages, isRoot: false, root: dir })
    expect(failed).toBe(false)
    expect(lines).toContain('!!! NOT ROOT: 2 integration suites skipped (demo lab, sshd, QEMU) — run `sudo npm test` for the full suite')
    expect(lines).toContain('!!!   needs-root.test.mjs')
    expect(lines).toContain('!!!   e2e/demo-lab.spec.ts')
    expect(lines.join('\n')).not.toContain('runs.test.mjs')
    expect(lines.at(-1)).toBe('3 passed, 0 failed, 2 skipped')
  })

  it('as root, still names skipped suites but does not blame the user id; the closing line keeps its exact form', () => {
    const { lines } = summarise({ vitest: report, playwright: undefined, stages, isRoot: true, root: dir })
    expect(lines.some((l) => l.startsWith('!!! SKIPPED: 1 suites'))).toBe(true)
    expect(lines.join('\n')).not.toContain('NOT ROOT')
    expect(lines.at(-1)).toMatch(/^\d+ passed, \d+ failed, \d+ skipped$/)
  })

  it('a failed stage without failing tests still fails the run', () => {
    const { lines, failed } = summarise({ stages: [{ name: 'typecheck', ok: false, seconds: 1 }], isRoot: true, root: dir })
    expect(failed).toBe(true)
    expect(lines.at(-1)).toBe('0 passed, 1 failed, 0 skipped')
  })
})
