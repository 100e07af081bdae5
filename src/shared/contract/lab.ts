import { z } from 'zod'
import { parseLabSubnet } from '../cidr'
import type { DemoLabStatus, JobInfo } from '../domain'
import { none } from './app'

/** Contract of the demo lab: network namespaces and sshd nodes on this Linux host. */
export const subnet = z.string().max(64).superRefine((text, ctx) => {
  const parsed = parseLabSubnet(text)
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason })
})

export const labInputs = {
  /** Omitted options keep the lab's current settings (so `up` repairs without reshaping), else 2 nodes on 198.18.0.0/24. */
  'demo.up': z.object({ nodes: z.number().int().min(1).max(8).optional(), subnet: subnet.optional() }).strict(),
  'demo.down': none,
  'demo.status': none,
} as const

export interface LabResults {
  'demo.up': JobInfo
  'demo.down': JobInfo
  'demo.status': DemoLabStatus
}
