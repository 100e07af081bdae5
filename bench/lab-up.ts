// Demo lab bring-up time, cold and warm. Prints times and ratios; never passes or fails on time.
// Cold = no lab and no cached guest image (fresh data dir: kernel download + build); warm = `down`
// then `up` again with the cache. Run as root: `npx tsx bench/lab-up.ts`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCore } from '../src/main/core'
import { DemoLab, type StepReporter } from '../src/main/lab/demo-lab'
import { stopGuest } from '../src/main/lab/guest-boot'

const GOAL_COLD_S = 60
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-bench-'))
const core = createCore({ dataDir, door: 'browser' })
const lab = new DemoLab({ dataDir, prefix: 'mlb', labs: core.services.labs, hostKeys: core.services.hostKeys })

/** Times each phase by the step names the lab reports (the text before the first colon). */
function phases(): StepReporter & { done(): Map<string, number> } {
  const spent = new Map<string, number>()
  let current = ''
  let since = performance.now()
  const close = () => current && spent.set(current, (spent.get(current) ?? 0) + performance.now() - since)
  return {
    progress: (_f, step) => {
      const phase = step.split(':')[0].replace(/ on .*| \(.*/, '')
      if (phase === current) return
      close()
      current = phase
      since = performance.now()
    },
    checkCancelled: () => {},
    /** Call once, right after the operation: closes the last phase. */
    done: () => {
      close()
      current = ''
      return spent
    },
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
async function timed<T>(body: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now()
  const value = await body()
  return [value, performance.now() - t]
}

try {
  const coldPhases = phases()
  const [cold, coldMs] = await timed(() => lab.up({ subnet: '198.19.88.0/24' }, coldPhases))
  const coldSpent = coldPhases.done()
  const [guest, bootMs] = await timed(() => lab.bootGuest({ workload: { echoPort: 7777 } }))
  await stopGuest(guest.files)
  const [, downMs] = await timed(() => lab.down(phases()))
  const warmPhases = phases()
  const [warm, warmMs] = await timed(() => lab.up({}, warmPhases))
  const warmSpent = warmPhases.done()
  const [, downWarmMs] = await timed(() => lab.down(phases()))

  console.log(`demo lab: ${cold.nodes.length} nodes on ${cold.subnet}, guest ${guest.accel}, kernel ${cold.guestImage.kernelPackage}`)
  console.log(`  cold up   ${seconds(coldMs).padStart(9)}   (guest image ${cold.guestImage.built ? 'built' : 'from cache'})`)
  for (const [phase, ms] of coldSpent) console.log(`    ${phase.padEnd(58)} ${seconds(ms).padStart(9)}`)
  console.log(`  warm up   ${seconds(warmMs).padStart(9)}   (guest image ${warm.guestImage.built ? 'built' : 'from cache'})`)
  for (const [phase, ms] of warmSpent) console.log(`    ${phase.padEnd(58)} ${seconds(ms).padStart(9)}`)
  console.log(`  guest boot to ready marker ${seconds(bootMs)} (QEMU ${guest.accel})`)
  console.log(`  down      ${seconds(downMs)} / ${seconds(downWarmMs)}`)
  console.log(`ratios: warm/cold ${(warmMs / coldMs).toFixed(2)}   cold/goal(${GOAL_COLD_S} s) ${(coldMs / 1000 / GOAL_COLD_S).toFixed(2)}   boot/warm-up ${(bootMs / warmMs).toFixed(2)}`)
} finally {
  await lab.down(phases()).catch((err: unknown) => console.error('teardown failed:', err))
  await core.close()
  rmSync(dataDir, { recursive: true, force: true })
}
