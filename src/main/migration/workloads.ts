import type { Workload } from '../../shared/contract/migration'
import { runKnob } from '../lab/guest-cmdline'

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
