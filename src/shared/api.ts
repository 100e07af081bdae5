import type { z } from 'zod'
import { appInputs, type AppResults } from './contract/app'
import { labInputs, type LabResults } from './contract/lab'
import { migrationInputs, type MigrationResults } from './contract/migration'
import { nodeInputs, type NodeResults } from './contract/nodes'
import { terminalInputs, type TerminalResults } from './contract/terminals'
import { historyInputs, type HistoryResults } from './contract/history'
import { setupInputs, type SetupResults } from './contract/setup'
import type { ApiError } from './errors'
import type { ApiEvent, EventListener } from './events'

/**
 * The one contract every door implements. Each method has an input schema (checked at the door)
 * and a result type; each area keeps its part in `contract/`. Adding a method makes the compiler
 * ask the core for its handler.
 */
export const inputs = {
  ...appInputs,
  ...labInputs,
  ...migrationInputs,
  ...nodeInputs,
  ...terminalInputs,
  ...historyInputs,
  ...setupInputs,
} as const

/** Each area's results; an area adds its interface here and its schemas to `inputs`. */
export interface Results extends AppResults, LabResults, MigrationResults, NodeResults, TerminalResults, HistoryResults, SetupResults {}

export type Method = keyof typeof inputs & keyof Results
export type Input<M extends Method> = z.input<(typeof inputs)[M]>
export type ParsedInput<M extends Method> = z.output<(typeof inputs)[M]>

export const methods = Object.keys(inputs) as Method[]

/**
 * Who is calling: `session` names one door connection (a browser tab's socket, a desktop window, a
 * CLI process). What a session opens (terminals) belongs to it alone and ends with it.
 */
export interface Caller {
  session: string
}

/** A caller that names no session (the CLI, a core used in-process): one process, one session. */
export const LOCAL_CALLER: Caller = { session: 'local' }

/** What the core provides: one async function per method, taking validated input and its caller. */
export type Handlers = { [M in Method]: (input: ParsedInput<M>, caller?: Caller) => Promise<Results[M]> }

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
