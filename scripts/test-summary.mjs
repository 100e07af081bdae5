// The closing summary of `npm test`, from the vitest and Playwright JSON reports. Skipped suites are
// named loudly: as non-root nearly every integration suite (demo lab, sshd, QEMU) skips, and a green
// line must not pass for a full run.
import { relative } from 'node:path'

const isSkipped = (status) => status === 'pending' || status === 'skipped' || status === 'todo'

/** Test files with at least one skipped test, from vitest's JSON report. */
function vitestSkippedFiles(v, root) {
  return (v?.testResults ?? []).filter((f) => (f.assertionResults ?? []).some((a) => isSkipped(a.status))).map((f) => relative(root, f.name))
}

/** Spec files with at least one skipped test, from Playwright's JSON report. */
function playwrightSkippedFiles(p) {
  const files = new Set()
  const walk = (suite, file) => {
    const f = suite.file ?? file
    for (const spec of suite.specs ?? []) if ((spec.tests ?? []).some((t) => t.status === 'skipped')) files.add(`e2e/${f}`)
    for (const child of suite.suites ?? []) walk(child, f)
  }
  for (const s of p?.suites ?? []) walk(s)
  return [...files]
}

/**
 * Lines of the summary; the last one is always exactly `N passed, N failed, N skipped`.
 * @param {{ vitest?: any, playwright?: any, stages: { name: string, ok: boolean, seconds: number }[], isRoot: boolean, root: string }} r
 */
export function summaryLines({ vitest: v, playwright: p, stages, isRoot, root }) {
  const lines = []
  const counts = { passed: 0, failed: 0, skipped: 0 }
  if (v) {
    const skipped = v.numPendingTests + v.numTodoTests
    lines.push(`vitest:     ${v.numPassedTests} passed, ${v.numFailedTests} failed, ${skipped} skipped (${v.numTotalTestSuites} suites)`)
    counts.passed += v.numPassedTests
    counts.failed += v.numFailedTests
    counts.skipped += skipped
  }
  if (p) {
    const passed = p.stats.expected + p.stats.flaky
    lines.push(`playwright: ${passed} passed, ${p.stats.unexpected} failed, ${p.stats.skipped} skipped`)
    counts.passed += passed
    counts.failed += p.stats.unexpected
    counts.skipped += p.stats.skipped
  }
  for (const s of stages) lines.push(`${s.ok ? '✔' : '✘'} ${s.name} (${s.seconds.toFixed(1)} s)`)
  const skippedFiles = [...vitestSkippedFiles(v, root), ...playwrightSkippedFiles(p)]
  if (skippedFiles.length) {
    const head = isRoot ? `SKIPPED: ${skippedFiles.length} suites skipped tests` : `NOT ROOT: ${skippedFiles.length} integration suites skipped (demo lab, sshd, QEMU) — run \`sudo npm test\` for the full suite`
    lines.push(`!!! ${head}`, ...skippedFiles.map((f) => `!!!   ${f}`))
  }
  const failedStages = stages.filter((s) => !s.ok).length
  // A stage that failed without a failing test (typecheck, build, a crashed runner) still counts.
  if (failedStages && !counts.failed) counts.failed = failedStages
  lines.push(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`)
  return { lines, failed: failedStages > 0 || counts.failed > 0 }
}
