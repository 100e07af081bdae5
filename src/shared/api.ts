import { z } from 'zod'
import type { ApiError } from './errors'
import type { AppInfo, DoctorCheck, JobInfo, Lab, RunSummary } from './domain'
import type { ApiEvent, EventListener } from './events'

/**
 * The one contract every door implements. Each method has an input schema (checked at the door)
 * and a result type. Adding a method here makes the compiler ask every door and the core for it.
 */
const none = z.object({}).strict()
const name = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(64, 'at most 64 characters')
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'letters, digits, space, dot, dash and underscore only')

export const inputs = {
  'app.info': none,
  'doctor.run': none,
  'labs.list': none,
  'labs.create': z.object({ name, description: z.string().max(2000).default('') }).strict(),
  'labs.remove': z.object({ id: z.number().int().positive() }).strict(),
  'jobs.list': none,
  'jobs.cancel': z.object({ id: z.string().min(1) }).strict(),
  'runs.list': z.object({ labId: z.number().int().positive().optional() }).strict(),
} as const

export interface Results {
  'app.info': AppInfo
  'doctor.run': DoctorCheck[]
  'labs.list': Lab[]
  'labs.create': Lab
  'labs.remove': { removed: boolean }
  'jobs.list': JobInfo[]
  'jobs.cancel': { cancelled: boolean }
  'runs.list': RunSummary[]
}

export type Method = keyof typeof inputs & keyof Results
export type Input<M extends Method> = z.input<(typeof inputs)[M]>
export type ParsedInput<M extends Method> = z.output<(typeof inputs)[M]>

export const methods = Object.keys(inputs) as Method[]

/** What the core provides: one async function per method, taking validated input. */
export type Handlers = { [M in Method]: (input: ParsedInput<M>) => Promise<Results[M]> }

/** What the renderer sees, whichever door it came through. */
export interface MigLabApi {
  call<M extends Method>(method: M, input: Input<M>): Promise<Results[M]>
  subscribe(listener: EventListener): () => void
}

/** One call on the wire (WebSocket) — IPC uses the same fields as arguments. */
export interface CallRequest {
  id: number
  method: string
  input: unknown
}
export type CallResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ApiError }
/** What the browser door's WebSocket sends: replies to calls, and pushed events. */
export type ServerMessage = ({ kind: 'response' } & CallResponse) | { kind: 'event'; event: ApiEvent }

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(inputs, value)
}
