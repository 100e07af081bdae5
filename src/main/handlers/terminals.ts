import { LOCAL_CALLER, type Caller, type ParsedInput } from '../../shared/api'
import type { TerminalResults } from '../../shared/contract/terminals'
import { MigLabError } from '../../shared/errors'
import type { Services } from '../services'

type TerminalHandlers = { [M in keyof TerminalResults]: (input: ParsedInput<M>, caller?: Caller) => Promise<TerminalResults[M]> }

export function terminalHandlers(s: Services): TerminalHandlers {
  const ok = { ok: true } as const
  return {
    'terminals.open': ({ nodeId, cols, rows }, { session } = LOCAL_CALLER) => s.terminals.open(nodeId, cols, rows, session),
    'terminals.input': async ({ id, data }, { session } = LOCAL_CALLER) => (s.terminals.input(id, data, session), ok),
    'terminals.resize': async ({ id, cols, rows }, { session } = LOCAL_CALLER) => (s.terminals.resize(id, cols, rows, session), ok),
    'terminals.ack': async ({ id, bytes }, { session } = LOCAL_CALLER) => (s.terminals.ack(id, bytes, session), ok),
    'terminals.close': async ({ id }, { session } = LOCAL_CALLER) => (s.terminals.close(id, session), ok),
    'terminals.saveTranscript': async ({ nodeId, runId, title, text }) => {
      // Said in words, not as the database's foreign-key failure.
      if (!s.nodes.get(nodeId)) throw new MigLabError('node_not_found', `No node with id ${nodeId}.`, { hint: 'The node was removed; its terminal can no longer be saved.' })
      if (runId !== undefined && !s.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) {
        throw new MigLabError('run_not_found', `No run with id ${runId}.`, { hint: 'Save the transcript without a run, or pick a run that exists.' })
      }
      return { id: s.transcripts.insert({ nodeId, runId, title, text }) }
    },
  }
}
