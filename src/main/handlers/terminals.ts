import type { ParsedInput } from '../../shared/api'
import type { TerminalResults } from '../../shared/contract/terminals'
import type { Services } from '../services'

type TerminalHandlers = { [M in keyof TerminalResults]: (input: ParsedInput<M>) => Promise<TerminalResults[M]> }

export function terminalHandlers(s: Services): TerminalHandlers {
  const ok = { ok: true } as const
  return {
    'terminals.open': ({ nodeId, cols, rows }) => s.terminals.open(nodeId, cols, rows),
    'terminals.input': async ({ id, data }) => (s.terminals.input(id, data), ok),
    'terminals.resize': async ({ id, cols, rows }) => (s.terminals.resize(id, cols, rows), ok),
    'terminals.ack': async ({ id, bytes }) => (s.terminals.ack(id, bytes), ok),
    'terminals.close': async ({ id }) => (s.terminals.close(id), ok),
    'terminals.saveTranscript': async ({ nodeId, runId, title, text }) => ({ id: s.transcripts.insert({ nodeId, runId, title, text }) }),
  }
}
