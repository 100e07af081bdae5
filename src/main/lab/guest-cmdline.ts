import { parseIpv4Cidr } from '../../shared/cidr'
import { MigLabError } from '../../shared/errors'

/** The workload knobs the guest's init reads from /proc/cmdline. */
export interface GuestKnobs {
  /** Address with prefix length, e.g. 198.18.0.100/24. */
  ip: string
  /** Memory dirtier: buffer size and rate. */
  dirty?: { sizeMiB: number; rateMiBps: number }
  /** UDP echo server port. */
  echoPort?: number
  /** A shell command the guest runs in the background (the custom workload). */
  run?: string
  /** The console device: ttyS0 under QEMU (default), hvc0 for a Xen PV guest. */
  console?: 'ttyS0' | 'hvc0'
}

/** Base64 keeps a custom command's spaces and quotes out of the kernel's own argument splitting. */
export const runKnob = (command: string): string => `lab.run=${Buffer.from(command).toString('base64')}`

export const READY_MARKER = 'MIGLAB-READY'

const positiveInt = (n: number) => Number.isInteger(n) && n > 0

/**
 * The guest kernel command line. `panic=-1` with QEMU's `-no-reboot` makes a guest panic end QEMU
 * visibly instead of rebooting in a loop.
 */
export function guestCmdline(knobs: GuestKnobs): string {
  if (!/\//.test(knobs.ip) || !parseIpv4Cidr(knobs.ip)) throw new MigLabError('bad_guest_knob', `lab.ip must be ADDRESS/LENGTH, got "${knobs.ip}".`)
  const parts = [`console=${knobs.console ?? 'ttyS0'}`, 'panic=-1', 'quiet', `lab.ip=${knobs.ip}`]
  if (knobs.dirty) {
    const { sizeMiB, rateMiBps } = knobs.dirty
    if (!positiveInt(sizeMiB) || !Number.isInteger(rateMiBps) || rateMiBps < 0) {
      throw new MigLabError('bad_guest_knob', `lab.dirty needs a whole size > 0 MiB and rate >= 0 MiB/s, got ${sizeMiB}:${rateMiBps}.`)
    }
    parts.push(`lab.dirty=${sizeMiB}:${rateMiBps}`)
  }
  if (knobs.echoPort !== undefined) {
    if (!positiveInt(knobs.echoPort) || knobs.echoPort > 65535) throw new MigLabError('bad_guest_knob', `lab.echo must be a UDP port, got ${knobs.echoPort}.`)
    parts.push(`lab.echo=${knobs.echoPort}`)
  }
  if (knobs.run) parts.push(runKnob(knobs.run))
  return parts.join(' ')
}
