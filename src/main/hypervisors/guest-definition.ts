import type { MigrationParams, StrategyId, Workload } from '../../shared/contract/migration'
import { MigLabError } from '../../shared/errors'
import { runKnob } from '../lab/guest-cmdline'
import type { VmSpec } from './driver'
import { safeId } from '../util/safe-id'

/** Knobs this module owns on the guest command line; replaced wholesale for each run. */
const OWN = /^lab\.(dirty|echo|run)=/

/**
 * The guest kernel command line for one run: the VM's own arguments with the workload's knobs
 * (read by resources/guest/init). The UDP echo server always runs when the probe has a port, so
 * every workload gets client-side latency; `echo` alone is the "idle + latency" workload.
 */
export function appendFor(base: string | undefined, w: Workload, echoPort?: number): string {
  const kept = (base ?? '').split(/\s+/).filter((a) => a && !OWN.test(a))
  if (w.kind === 'dirty') kept.push(`lab.dirty=${w.bufferMiB}:${w.rateMiBs}`)
  if (w.kind === 'custom') kept.push(runKnob(w.command))
  if (echoPort !== undefined) kept.push(`lab.echo=${echoPort}`)
  return kept.join(' ')
}

/** What one run asks of the VM: the driver turns it into the VM definition it boots. */
export interface RunRequest {
  strategy: StrategyId
  workload: Workload
  params: MigrationParams
}

/** The RAM file, in a 0700 directory of MigLab's inside the shared-memory folder (the driver creates and checks it). */
export const ramFile = (dir: string, vm: string): string => `${dir.replace(/\/+$/, '')}/miglab-ram/${safeId(vm)}.ram`

/** A guest MigLab boots from its kernel: the workload's knobs on the command line, RAM in a shared file for dsm. */
export function guestDefinition(base: VmSpec, run: RunRequest): VmSpec {
  const spec: VmSpec = { ...base, append: appendFor(base.append, run.workload, base.echo?.port) }
  delete spec.sharedMemoryPath
  delete spec.localMemoryPath
  // The DSM runtime's source file and replica: the same path, each in its node's own memory.
  if (run.strategy === 'dsm-runtime') spec.localMemoryPath = ramFile(run.params.nodeMemoryDir ?? '/dev/shm', base.name)
  if (run.strategy === 'dsm') {
    if (!run.params.sharedMemoryDir) {
      throw new MigLabError('shared_memory_missing', 'The dsm strategy needs a shared memory folder that both nodes see (params.sharedMemoryDir).', {
        hint: 'Use /dev/shm in the demo lab, or the DSM mount point on real nodes.',
      })
    }
    spec.sharedMemoryPath = ramFile(run.params.sharedMemoryDir, base.name)
  }
  return spec
}
