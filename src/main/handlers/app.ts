import { readFileSync } from 'node:fs'
import type { AppResults } from '../../shared/contract/app'
import type { ParsedInput } from '../../shared/api'
import type { Services } from '../services'
import { runDoctor } from '../system/doctor'

type AppHandlers = { [M in keyof AppResults]: (input: ParsedInput<M>) => Promise<AppResults[M]> }

export const version = (): string =>
  (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export function appHandlers(s: Services): AppHandlers {
  return {
    'app.info': async () => ({ version: version(), door: s.door, dataDir: s.dataDir, dbPath: s.dbPath, platform: `${process.platform} ${process.arch}`, secrets: s.secrets.describe() }),
    'doctor.run': () => runDoctor(),
    'labs.list': async () => s.labs.list(),
    'labs.create': async ({ name, description, hypervisor }) => {
      const lab = s.labs.create({ name, kind: 'real', description, hypervisor })
      s.bus.emit({ type: 'labs.changed' })
      return lab
    },
    'labs.remove': async ({ id }) => {
      s.labs.require(id)
      const removed = s.labs.remove(id)
      s.bus.emit({ type: 'labs.changed' })
      return { removed }
    },
    'jobs.list': async () => s.jobs.list(),
    'jobs.cancel': async ({ id }) => ({ cancelled: s.jobs.cancel(id) }),
    'runs.list': async ({ labId }) => s.runs.list(labId),
  }
}
