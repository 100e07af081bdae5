// A fresh demo lab set up by every wizard it can run (QEMU, NFS, MPI): the time each wizard takes,
// the share spent in package steps, and a second run (every step already done) as the baseline.
// Never passes or fails on time. Run as root: `npx tsx bench/setup.ts`.
//
// What "fresh" means here: new namespaces, sshd and per-node homes (no SSH trust, no MPI files, no
// benchmark, no NFS export). The nodes share this machine's packages, so the package steps find
// everything installed: their share is the time to CHECK the packages (dpkg-query on each node), not
// to install them — a download and install cannot be measured on nodes without a route to a mirror.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createCore } from '../src/main/core'
import { nodeRefs } from '../src/main/handlers/setup'
import { runWizard, type Progress } from '../src/main/setup/engine'
import { NFS } from '../src/main/setup/nfs'
import { poolExec } from '../src/main/setup/pool-exec'
import { wizards } from '../src/main/setup/wizards'
import { SetupStepsRepo } from '../src/main/store/setup-steps'
import type { SetupRunReport, WizardId } from '../src/shared/contract/setup'
import { seedGuestCache } from '../test/fixtures/demo-lab'
import { tempDir } from '../test/helpers'

const GOAL_S = 300
const ORDER: WizardId[] = ['qemu', 'nfs', 'mpi']
const quiet = { progress: () => {}, checkCancelled: () => {} }
const dataDir = tempDir()
seedGuestCache(dataDir)
const core = createCore({ dataDir, door: 'browser', demoPrefix: 'mlbs' })
const ganeshaConf = existsSync(NFS.ganeshaConf) ? readFileSync(NFS.ganeshaConf, 'utf8') : undefined
const srvExisted = existsSync(NFS.export)

/** Wall time per step (summed over its nodes), from the engine's progress calls: each marks a unit's start. */
function timing(): Progress & { done(): Map<string, number> } {
  const spent = new Map<string, number>()
  let current = ''
  let since = performance.now()
  const close = () => current && spent.set(current, (spent.get(current) ?? 0) + performance.now() - since)
  return {
    progress: (_f, step) => {
      close()
      current = step.replace(/ on \S+$/, '')
      since = performance.now()
    },
    log: () => {},
    checkCancelled: () => {},
    done: () => {
      close()
      current = ''
      return spent
    },
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9)

try {
  const t0 = performance.now()
  const up = await core.services.demoLab.up({ subnet: '198.19.214.0/24', nodes: 2 }, quiet)
  const upMs = performance.now() - t0
  const lab = core.services.labs.get(up.labId)!
  const store = new SetupStepsRepo(core.services.db)
  const run = async (id: WizardId): Promise<{ ms: number; steps: Map<string, number>; report: SetupRunReport }> => {
    const p = timing()
    const t = performance.now()
    const report = await runWizard(wizards[id]!, { labId: lab.id, nodes: nodeRefs(core.services, lab), dryRun: false }, { exec: poolExec(core.services.ssh), store, progress: p })
    const ms = performance.now() - t
    const steps = p.done()
    steps.delete('Done')
    if (!report.ok) throw new Error(`${id}: ${JSON.stringify(report.steps.find((x) => x.outcome === 'failed'))}`)
    return { ms, steps, report }
  }
  console.log(`demo lab up (fresh, ${up.nodes.length} nodes, guest image ${up.guestImage.built ? 'built' : 'cached'}): ${s(upMs).trim()}`)
  let total = 0
  let packages = 0
  let installs = 0
  const firsts = new Map<WizardId, number>()
  for (const id of ORDER) {
    const { ms, steps, report } = await run(id)
    firsts.set(id, ms)
    total += ms
    console.log(`  ${wizards[id]!.title.padEnd(40)} ${s(ms)}`)
    for (const [step, stepMs] of steps) {
      const isPkg = /packages/i.test(step)
      if (isPkg) packages += stepMs
      console.log(`    ${step.padEnd(70)} ${s(stepMs)}${isPkg ? '  (package step)' : ''}`)
    }
    installs += report.steps.filter((x) => /packages/.test(x.step) && x.outcome === 'applied').length
  }
  console.log(`all three wizards, first run: ${s(total).trim()} (goal < ${GOAL_S} s: ${(total / 1000 / GOAL_S).toFixed(3)} of it)`)
  console.log(`package steps: ${s(packages).trim()} = ${((100 * packages) / total).toFixed(1)} % of the total — ${installs === 0 ? 'checks only: every package was already present (no install ran)' : `${installs} install(s) ran`}`)
  let again = 0
  for (const id of ORDER) {
    const { ms, report } = await run(id)
    again += ms
    const notDone = report.steps.filter((x) => x.outcome !== 'already_done' && x.outcome !== 'skipped')
    console.log(`  second run ${id.padEnd(5)} ${s(ms)}   first/second ${(firsts.get(id)! / ms).toFixed(2)}${notDone.length ? `   NOT already done: ${notDone.map((x) => x.step).join(', ')}` : ''}`)
  }
  console.log(`ratio first run / second run (checks only): ${(total / again).toFixed(2)}`)
} finally {
  await core.services.demoLab.down(quiet).catch((err: unknown) => console.error('teardown failed:', err))
  await core.close()
  // The NFS wizard's files on this machine (the demo nodes share its files) go back to what they were.
  rmSync(NFS.ganeshaExport, { force: true })
  if (ganeshaConf !== undefined) writeFileSync(NFS.ganeshaConf, ganeshaConf)
  rmSync(join(NFS.export, NFS.proof), { force: true })
  if (!srvExisted) rmSync(NFS.export, { recursive: true, force: true })
  rmSync(dataDir, { recursive: true, force: true })
}
