import type { EventBus } from './events'
import type { JobManager } from './jobs/manager'
import type { Db } from './store/db'
import type { HostKeysRepo } from './store/hostkeys'
import type { LabsRepo } from './store/labs'
import type { RunsRepo } from './store/runs'

/** What the composition root builds once and hands to every area's handlers. */
export interface Services {
  dataDir: string
  dbPath: string
  door: 'desktop' | 'browser'
  db: Db
  bus: EventBus
  jobs: JobManager
  labs: LabsRepo
  runs: RunsRepo
  hostKeys: HostKeysRepo
}
