import { z } from 'zod'
import { parseLabSubnet } from '../cidr'
import type { DemoLabStatus, JobInfo } from '../domain'

/** Contract of the demo lab: network namespaces and sshd nodes on this Linux host. */
export const subnet = z.string().max(64).superRefine((text, ctx) => {
  const parsed = parseLabSubnet(text)
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason })
})

/** Which demo lab: QEMU nodes in namespaces (default), or two Xen hosts (QEMU TCG guests) with the xl toolstack. */
export const demoHypervisors = ['qemu', 'xen'] as const
const which = z.object({ hypervisor: z.enum(demoHypervisors).optional() }).strict()

export const labInputs = {
  /**
   * Omitted options keep the lab's current settings (so `up` repairs without reshaping), else 2 nodes on
   * 198.18.0.0/24 (QEMU) or 2 Xen hosts on 198.18.1.0/24; `nodes` applies to the QEMU lab only.
   */
  'demo.up': z.object({ nodes: z.number().int().min(1).max(8).optional(), subnet: subnet.optional(), hypervisor: z.enum(demoHypervisors).optional() }).strict(),
  'demo.down': which,
  'demo.status': which,
} as const

export interface LabResults {
  'demo.up': JobInfo
  'demo.down': JobInfo
  'demo.status': DemoLabStatus
}
