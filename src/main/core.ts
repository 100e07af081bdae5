import type { Handlers } from '../shared/api'
import type { EventListener } from '../shared/events'
import { EventBus } from './events'
import { appHandlers } from './handlers/app'
import { labHandlers } from './handlers/lab'
import { migrationHandlers, recoverPlacements } from './handlers/migration'
import { reconcileInterrupted } from './migration/recover'
import { nodeHandlers } from './handlers/nodes'
import { terminalHandlers } from './handlers/terminals'
import { historyHandlers } from './handlers/history'
import { setupHandlers } from './handlers/setup'
import { NodeClocks } from './hypervisors/node-clock'
import { QemuDriver } from './hypervisors/qemu/driver'
import { MigrationCa } from './security/migration-ca'
import { XenDriver } from './hypervisors/xen/driver'
import { XlDriver } from './hypervisors/xen-xl/driver'
import { XenLab } from './lab/xen/xen-lab'
import { JobManager } from './jobs/manager'
import { DemoLab } from './lab/demo-lab'
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
  /** Names the demo lab's namespaces; end-to-end runs use their own beside a user's lab. */
  demoPrefix?: string
  /** Names the Xen demo lab's namespace and files (MIGLAB_XEN_PREFIX, else `mxen`). */
  xenPrefix?: string
  /** Where the Xen lab's dom0 image is cached (MIGLAB_XEN_CACHE_DIR, else under the data dir); tests share one. */
  xenCacheDir?: string
}

export interface Core {
  readonly handlers: Handlers
  readonly services: Services
  /** Every event; for a door session, terminal events of that session's own terminals only. */
  subscribe(listener: EventListener, session?: string): () => void
  /** A door connection ended (tab closed, socket dropped, window closed): its terminals close. */
  endSession(session: string): void
  close(): Promise<void>
}

/** The composition root: opens the store, reconciles what a crash left, and wires every area's handlers. */
/**
 * Secrets of nodes the database no longer has (removed while the secret store could not be
 * written, or a history replaced under a kept secrets file) are deleted, so they can never be
 * offered to another node.
 */
function forgetOrphanSecrets(secrets: SecretStore, nodes: NodesRepo): void {
  for (const key of secrets.nodeKeys()) {
    const id = Number(key)
    if (!Number.isInteger(id) || !nodes.get(id)) secrets.delete(key)
  }
}

export function createCore(options: CoreOptions): Core {
  const dbPath = dbPathIn(options.dataDir)
  const db = openDb(dbPath)
  const bus = new EventBus()
  const jobsRepo = new JobsRepo(db)
  const hostKeys = new HostKeysRepo(db)
  const nodes = new NodesRepo(db)
  const labs = new LabsRepo(db)
  const secrets = options.secrets ?? new MemorySecretStore()
  const hostTrust = new HostTrust({ repo: hostKeys, confirm: askThroughError })
  const ssh = new SshPool({ resolve: storedNodeTargets(nodes), secrets, trust: hostTrust })
  // Node clock offsets: measured once per node and minute, shared by the drivers and the runner's wire capture.
  const clocks = new NodeClocks()
  const xl = new XlDriver()
  const services: Services = {
    dataDir: options.dataDir,
    door: options.door,
    dbPath,
    db,
    bus,
    jobs: new JobManager(jobsRepo, new LogsRepo(db), bus),
    labs,
    runs: new RunsRepo(db),
    history: new HistoryRepo(db),
    hostKeys,
    nodes,
    secrets,
    hostTrust,
    ssh,
    // MIGLAB_TERMINAL_COALESCE=0: terminal output chunk by chunk (for bench/terminal.ts's comparison).
    terminals: new TerminalManager(bus, sshShells(ssh, nodes), process.env.MIGLAB_TERMINAL_COALESCE !== '0'),
    transcripts: new TranscriptsRepo(db),
    clocks,
    drivers: { qemu: new QemuDriver({ tls: new MigrationCa(options.dataDir), clocks }), xen: new XenDriver(), xl },
    demoLab: new DemoLab({ dataDir: options.dataDir, labs, hostKeys, prefix: options.demoPrefix ?? (process.env.MIGLAB_DEMO_PREFIX || undefined) }),
    xenLab: new XenLab({
      dataDir: options.dataDir,
      labs,
      hostKeys,
      ssh,
      driver: xl,
      prefix: options.xenPrefix ?? (process.env.MIGLAB_XEN_PREFIX || undefined),
      cacheDir: options.xenCacheDir ?? (process.env.MIGLAB_XEN_CACHE_DIR || undefined),
    }),
  }
  jobsRepo.markInterrupted()
  reconcileInterrupted(db, services.runs)
  forgetOrphanSecrets(secrets, nodes)

  const handlers: Handlers = {
    ...appHandlers(services),
    ...labHandlers(services),
    ...migrationHandlers(services),
    ...nodeHandlers(services),
    ...terminalHandlers(services),
    ...historyHandlers(services),
    ...setupHandlers(services),
  }

  recoverPlacements(services)

  return {
    handlers,
    services,
    subscribe: (listener, session) =>
      bus.subscribe(
        session === undefined
          ? listener
          : (event) => {
              if ((event.type === 'terminal.data' || event.type === 'terminal.exit') && services.terminals.sessionOf(event.id) !== session) return
              listener(event)
            },
      ),
    endSession: (session) => services.terminals.closeSession(session),
    close: async () => {
      await services.jobs.shutdown()
      services.terminals.closeAll()
      await Promise.all(Object.values(services.drivers).map((d) => d.close()))
      await services.ssh.close()
      db.close()
    },
  }
}
