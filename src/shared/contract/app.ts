import { z } from 'zod'
import { hypervisorKinds, type AppInfo, type DoctorCheck, type JobInfo, type Lab, type RunSummary } from '../domain'

/** Contract of the foundation: app info, doctor, labs, jobs, runs. */
export const none = z.object({}).strict()
export const labName = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(64, 'at most 64 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'letters, digits, space, dot, dash and underscore only')
export const id = z.number().int().positive()

export const appInputs = {
  'app.info': none,
  'doctor.run': none,
  'labs.list': none,
  'labs.create': z.object({ name: labName, description: z.string().max(2000).default(''), hypervisor: z.enum(hypervisorKinds).default('qemu') }).strict(),
  'labs.remove': z.object({ id }).strict(),
  'jobs.list': none,
  'jobs.cancel': z.object({ id: z.string().min(1).max(64) }).strict(),
  'runs.list': z.object({ labId: id.optional() }).strict(),
} as const

export interface AppResults {
  'app.info': AppInfo
  'doctor.run': DoctorCheck[]
  'labs.list': Lab[]
  'labs.create': Lab
  'labs.remove': { removed: boolean }
  'jobs.list': JobInfo[]
  'jobs.cancel': { cancelled: boolean }
  'runs.list': RunSummary[]
}
