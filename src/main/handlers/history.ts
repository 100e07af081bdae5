import type { ParsedInput } from '../../shared/api'
import type { HistoryResults } from '../../shared/contract/history'
import { exportRuns } from '../migration/export'
import type { Services } from '../services'

type HistoryHandlers = { [M in keyof HistoryResults]: (input: ParsedInput<M>) => Promise<HistoryResults[M]> }

export function historyHandlers(s: Services): HistoryHandlers {
  return {
    'runs.export': async ({ format, labId }) => exportRuns(s.db, { format, labId }),
  }
}
