// Xen demo lab bring-up time, cold and warm. Prints times and ratios; never passes or fails on time.
// Cold = an empty cache (debootstrap downloads every package, then the dom0 image is built); warm =
// `down` then `up` again with the image cached. Both include booting the two Xen hosts and the
// integrity gate. Run as root under the heavy lock: `flock /work/heavy.lock npx tsx bench/xen-lab-up.ts`.
// MIGLAB_XEN_CACHE_DIR=<dir> measures "cold" against an existing package cache instead.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCore } from '../src/main/core'
import type { StepReporter } from '../src/main/lab/demo-lab'

// The goals: warm < 60 s to two SSH-ready hosts, cold < 5 min.
const GOAL_WARM_S = 60
const GOAL_COLD_S = 300
const dataDir = mkdtempSync(join(tmpdir(), 'miglab-xen-bench-'))
const cacheDir = process.env.MIGLAB_XEN_CACHE_DIR || join(dataDir, 'cache')
const core = createCore({ dataDir, door: 'browser', xenPrefix: 'mxb', xenCacheDir: cacheDir })
const lab = core.services.xenLab
const quiet: StepReporter = { progress: () => {}, checkCancelled: () => {} }
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8)

try {
  const cold = await lab.up({ subnet: '198.19.89.0/24' }, quiet)
  await lab.down(quiet)
  const warm = await lab.up({}, quiet)
  await lab.down(quiet)
  for (const [name, r] of [['cold', cold], ['warm', warm]] as const) {
    const ready = r.dom0Image.buildMs + r.bootMs
    console.log(`  ${name} up ${s(r.elapsedMs)}   dom0 image ${r.dom0Image.built ? 'built' : 'cached'} ${s(r.dom0Image.buildMs)}   hosts boot ${s(r.bootMs)}   integrity gate ${s(r.gate.elapsedMs)}   to SSH-ready hosts ${s(ready)}`)
  }
  console.log(`ratios: warm/cold ${(warm.elapsedMs / cold.elapsedMs).toFixed(2)}   warm SSH-ready/goal(${GOAL_WARM_S} s) ${((warm.dom0Image.buildMs + warm.bootMs) / 1000 / GOAL_WARM_S).toFixed(2)}   cold/goal(${GOAL_COLD_S} s) ${(cold.elapsedMs / 1000 / GOAL_COLD_S).toFixed(2)}`)
} finally {
  await lab.down(quiet).catch((err: unknown) => console.error('teardown failed:', err))
  await core.close()
  rmSync(dataDir, { recursive: true, force: true })
}
