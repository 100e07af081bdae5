import { z } from 'zod'
import { id } from './app'

/** Contract of the run history beyond listing: export. */
export const historyInputs = {
  'runs.export': z.object({ format: z.enum(['csv', 'json']), labId: id.optional() }).strict(),
} as const

export interface HistoryResults {
  'runs.export': { filename: string; mime: string; content: string }
}
