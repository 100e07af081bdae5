import type { NodeClocks } from './hypervisors/node-clock'
import type { HypervisorKind } from '../shared/domain'
import type { EventBus } from './events'
import type { HypervisorDriver } from './hypervisors/driver'
import type { DemoLab } from './lab/demo-lab'
import type { XenLab } from './lab/xen/xen-lab'
import type { JobManager } from './jobs/manager'
import type { Db } from './store/db'
import type { HistoryRepo } from './store/history'
import type { HostKeysRepo } from './store/hostkeys'
import type { HostTrust } from './ssh/host-trust'
import type { SshPool } from './ssh/pool'
import type { SecretStore } from './ssh/secrets'
import type { LabsRepo } from './store/labs'
import type { NodesRepo } from './store/nodes'
import type { RunsRepo } from './store/runs'
import type { TranscriptsRepo } from './store/transcripts'
import type { TerminalManager } from './terminals/manager'

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
  /** Tags, notes, stars and the filtered history list. */
  history: HistoryRepo
  hostKeys: HostKeysRepo
  nodes: NodesRepo
  /** Node passwords and passphrases: in memory, never in the database. */
  secrets: SecretStore
  hostTrust: HostTrust
  /** One SSH connection per node, keyed by `nodeKey(node.id)`. */
  ssh: SshPool
  terminals: TerminalManager
  transcripts: TranscriptsRepo
  /** One driver per hypervisor; each lab chooses its own. */
  clocks: NodeClocks
  drivers: Record<HypervisorKind, HypervisorDriver>
  /** The demo lab on this machine (its prefix names its namespaces and /dev/shm folder). */
  demoLab: DemoLab
  /** The Xen demo lab: two Xen hosts as QEMU TCG guests, driven with xl. */
  xenLab: XenLab
}
