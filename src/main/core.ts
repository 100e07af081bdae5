import type { Handlers } from '../shared/api'
import type { EventListener } from '../shared/events'
import { EventBus } from './events'
import { appHandlers } from './handlers/app'
import { JobManager } from './jobs/manager'
import { dbPathIn } from './paths'
import type { Services } from './services'
import { openDb } from './store/db'
import { HostKeysRepo } from './store/hostkeys'
import { JobsRepo } from './store/jobs'
import { LabsRepo } from './store/labs'
import { LogsRepo } from './store/logs'
import { RunsRepo } from './store/runs'

export interface CoreOptions {
  dataDir: string
  door: 'desktop' | 'browser'
}

export interface Core {
  readonly handlers: Handlers
  readonly services: Services
  subscribe(listener: EventListener): () => void
  close(): Promise<void>
}

/** The composition root: opens the store, reconciles what a crash left, and wires every area's handlers. */
export function createCore(options: CoreOptions): Core {
  const dbPath = dbPathIn(options.dataDir)
  const db = openDb(dbPath)
  const bus = new EventBus()
  const jobsRepo = new JobsRepo(db)
  const services: Services = {
    ...options,
    dbPath,
    db,
    bus,
    jobs: new JobManager(jobsRepo, new LogsRepo(db), bus),
    labs: new LabsRepo(db),
    runs: new RunsRepo(db),
    hostKeys: new HostKeysRepo(db),
  }
  jobsRepo.markInterrupted()
  services.runs.markInterrupted()

  const handlers: Handlers = {
    ...appHandlers(services),
  }

  return {
    handlers,
    services,
    subscribe: (listener) => bus.subscribe(listener),
    close: async () => {
      await services.jobs.shutdown()
      db.close()
    },
  }
}
