import { readFileSync } from 'node:fs'
import type { Handlers } from '../shared/api'
import type { EventListener } from '../shared/events'
import { MigLabError } from '../shared/errors'
import { EventBus } from './events'
import { JobManager } from './jobs/manager'
import { dbPathIn } from './paths'
import { openDb, type Db } from './store/db'
import { JobsRepo } from './store/jobs'
import { LabsRepo } from './store/labs'
import { LogsRepo } from './store/logs'
import { RunsRepo } from './store/runs'
import { runDoctor } from './system/doctor'

export interface CoreOptions {
  dataDir: string
  door: 'desktop' | 'browser'
}

export interface Core {
  readonly handlers: Handlers
  readonly db: Db
  readonly jobs: JobManager
  subscribe(listener: EventListener): () => void
  close(): Promise<void>
}

function appVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** The composition root: opens the store, reconciles what a crash left, and wires every handler. */
export function createCore(options: CoreOptions): Core {
  const dbPath = dbPathIn(options.dataDir)
  const db = openDb(dbPath)
  const bus = new EventBus()
  const jobsRepo = new JobsRepo(db)
  const labs = new LabsRepo(db)
  const runs = new RunsRepo(db)
  const jobs = new JobManager(jobsRepo, new LogsRepo(db), bus)
  jobsRepo.markInterrupted()
  runs.markInterrupted()

  const handlers: Handlers = {
    'app.info': async () => ({
      version: appVersion(),
      door: options.door,
      dataDir: options.dataDir,
      dbPath,
      platform: `${process.platform} ${process.arch}`,
    }),
    'doctor.run': () => runDoctor(),
    'labs.list': async () => labs.list(),
    'labs.create': async ({ name, description }) => {
      const lab = labs.create({ name, kind: 'real', description })
      bus.emit({ type: 'labs.changed' })
      return lab
    },
    'labs.remove': async ({ id }) => {
      if (!labs.get(id)) throw new MigLabError('lab_not_found', `No lab with id ${id}.`)
      const removed = labs.remove(id)
      bus.emit({ type: 'labs.changed' })
      return { removed }
    },
    'jobs.list': async () => jobs.list(),
    'jobs.cancel': async ({ id }) => ({ cancelled: jobs.cancel(id) }),
    'runs.list': async ({ labId }) => runs.list(labId),
  }

  return {
    handlers,
    db,
    jobs,
    subscribe: (listener) => bus.subscribe(listener),
    close: async () => {
      await jobs.shutdown()
      db.close()
    },
  }
}
