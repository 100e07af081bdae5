import { z } from 'zod'
import { MAX_TERMINAL_INPUT_CHARS, MAX_TRANSCRIPT_CHARS } from '../limits'
import { id } from './app'

/** Embedded terminals: a pty shell per tab on a node; bytes flow as events, keystrokes as calls. */
const size = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) }
const termId = z.string().min(1).max(64)

export const terminalInputs = {
  'terminals.open': z.object({ nodeId: id, ...size }).strict(),
  'terminals.input': z.object({ id: termId, data: z.string().max(MAX_TERMINAL_INPUT_CHARS) }).strict(),
  'terminals.resize': z.object({ id: termId, ...size }).strict(),
  /** Flow control: the renderer confirms how many bytes xterm.js has rendered. */
  'terminals.ack': z.object({ id: termId, bytes: z.number().int().nonnegative() }).strict(),
  'terminals.close': z.object({ id: termId }).strict(),
  'terminals.saveTranscript': z
    .object({ nodeId: id, title: z.string().max(200), text: z.string().max(MAX_TRANSCRIPT_CHARS), runId: id.optional() })
    .strict(),
} as const

export interface TerminalResults {
  'terminals.open': { id: string; title: string }
  'terminals.input': { ok: true }
  'terminals.resize': { ok: true }
  'terminals.ack': { ok: true }
  'terminals.close': { ok: true }
  'terminals.saveTranscript': { id: number }
}
