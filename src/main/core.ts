import type { Handlers } from '../shared/api'
import type { EventListener } from '../shared/events'
import { EventBus } from './events'
import { appHandlers } from './handlers/app'
import { labHandlers } from './handlers/lab'
import { migrationHandlers } from './handlers/migration'
import { nodeHandlers } from './handlers/nodes'
import { terminalHandlers } from './handlers/terminals'
import { historyHandlers } from './handlers/history'
import { JobManager } from './jobs/manager'
import { dbPathIn } from './paths'
import type { Services } from './services'
import { askThroughError, HostTrust } from './ssh/host-trust'
import { SshPool } from './ssh/pool'
import { MemorySecretStore, type SecretStore } from './ssh/secrets'
import { storedNodeTargets } from './ssh/targets'
import { openDb } from './store/db'
import { HistoryRepo } from './store/history'
import { HostKeysRepo } from './store/hostkeys'
import { JobsRepo } from './store/jobs'
import { LabsRepo } from './store/labs'
import { LogsRepo } from './store/logs'
import { NodesRepo } from './store/nodes'
import { RunsRepo } from './store/runs'
import { TranscriptsRepo } from './store/transcripts'
import { TerminalManager } from './terminals/manager'
import { sshShells } from './terminals/ssh-shells'

export interface CoreOptions {
  dataDir: string
  door: 'desktop' | 'browser'
  /** Where node secrets live; memory only unless a door brings a keychain (the desktop's safeStorage). */
  secrets?: SecretStore
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
  const hostKeys = new HostKeysRepo(db)
  const nodes = new NodesRepo(db)
  const secrets = options.secrets ?? new MemorySecretStore()
  const hostTrust = new HostTrust({ repo: hostKeys, confirm: askThroughError })
  const ssh = new SshPool({ resolve: storedNodeTargets(nodes), secrets, trust: hostTrust })
  const services: Services = {
    dataDir: options.dataDir,
    door: options.door,
    dbPath,
    db,
    bus,
    jobs: new JobManager(jobsRepo, new LogsRepo(db), bus),
    labs: new LabsRepo(db),
    runs: new RunsRepo(db),
    history: new HistoryRepo(db),
    hostKeys,
    nodes,
    secrets,
    hostTrust,
    ssh,
    terminals: new TerminalManager(bus, sshShells(ssh, nodes)),
    transcripts: new TranscriptsRepo(db),
  }
  jobsRepo.markInterrupted()
  services.runs.markInterrupted()

  const handlers: Handlers = {
    ...appHandlers(services),
    ...labHandlers(services),
    ...migrationHandlers(services),
    ...nodeHandlers(services),
    ...terminalHandlers(services),
    ...historyHandlers(services),
  }

  return {
    handlers,
    services,
    subscribe: (listener) => bus.subscribe(listener),
    close: async () => {
      await services.jobs.shutdown()
      services.terminals.closeAll()
      await services.ssh.close()
      db.close()
    },
  }
}
