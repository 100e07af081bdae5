import type { VmSpec } from '../hypervisors/driver'
import { guestCmdline, READY_MARKER } from '../lab/guest-cmdline'
import type { GuestImage } from '../lab/guest-image'
import { TAP, type LabPlan } from '../lab/plan'

export const DEMO_VM = 'guest'
export const DEMO_ECHO_PORT = 7777

/**
 * The demo lab's guest as a VM definition: the lab's image (the nodes share this host's files),
 * one IP and MAC wherever it runs, each node's own tap, the UDP echo server for the probe.
 */
export function demoVmSpec(plan: LabPlan, image: Pick<GuestImage, 'kernel' | 'initrd'>, memoryMiB = 256): VmSpec {
  return {
    name: DEMO_VM,
    memoryMiB,
    kernel: image.kernel,
    initrd: image.initrd,
    append: guestCmdline({ ip: `${plan.guestIp}/${plan.prefixLength}` }),
    nic: { mac: plan.guestMac, taps: Object.fromEntries(plan.nodes.map((n) => [n.name, TAP])) },
    readyMarker: READY_MARKER,
    echo: { ip: plan.guestIp, port: DEMO_ECHO_PORT },
  }
}
