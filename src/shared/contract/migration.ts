import { z } from 'zod'
import type { JobInfo, RunSummary } from '../domain'
import { id, labName } from './app'

/** Contract of live-migration experiments: VMs, strategies, experiments, run details and comparisons. */

export const strategyIds = ['precopy', 'postcopy', 'dsm', 'dsm-runtime', 'xbzrle', 'multifd', 'auto-converge'] as const
export const strategyId = z.enum(strategyIds)
export type StrategyId = z.infer<typeof strategyId>

export const strategyLabels: Record<StrategyId, string> = {
  precopy: 'Pre-copy (baseline)',
  postcopy: 'Hybrid pre-copy → post-copy',
  // Id `dsm` kept for stored runs; what it is today: both nodes map one memory (the same host, or a coherent shared mount).
  dsm: 'Shared memory (same host): RAM not copied',
  // MigLab's DSM runtime (MPI) keeps a replica of the guest's RAM on the destination's own memory.
  'dsm-runtime': 'DSM (page replica over the network)',
  xbzrle: 'Pre-copy + XBZRLE delta compression',
  multifd: 'Pre-copy over several channels (multifd)',
  'auto-converge': 'Pre-copy + auto-converge (vCPU throttling)',
}

/** What a reader must know to read a strategy's figures, shown beside it where it is offered. */
export const strategyNotes: Partial<Record<StrategyId, string>> = {
  dsm: 'Both nodes map one memory: in the demo lab the shared folder is this machine\'s own memory, an ideal no real two-node lab has.',
  'dsm-runtime': "MigLab's DSM runtime (MPI) copies changed pages into a replica in the destination's own memory; the final sync is part of the downtime.",
}

/** Tuning for one migration. Units in the names; QEMU's own units are converted by the driver. */
export const migrationParams = z
  .object({
    downtimeLimitMs: z.number().int().min(1).max(600_000).optional(),
    // QEMU's default 128 MiB/s never converges against a guest dirtying faster than that (LAB-RECIPE).
    maxBandwidthMiBs: z.number().positive().max(1_000_000).default(1024),
    multifdChannels: z.number().int().min(1).max(64).default(2),
    /** Post-copy switch-over: after this many pre-copy passes or this long, whichever comes first. */
    postcopyAfterPasses: z.number().int().min(1).max(1000).optional(),
    postcopyAfterMs: z.number().int().min(0).max(600_000).optional(),
    xbzrleCacheMiB: z.number().int().min(1).max(65_536).optional(),
    /** Folder both nodes see as the same memory (DSM mount on real nodes, /dev/shm in the demo lab). */
    sharedMemoryDir: z.string().min(1).max(200).optional(),
    /** Each node's own memory for guest RAM the DSM runtime replicates (a node-local tmpfs; /dev/shm when absent). */
    nodeMemoryDir: z.string().min(1).max(200).optional(),
    /** Folder every node sees at the same path (the NFS wizard's /mnt/miglab): the guest gets a raw disk there. xl only. */
    sharedDiskDir: z.string().min(1).max(200).optional(),
    probeIntervalMs: z.number().min(1).max(1000).default(1),
    /** Give up on one migration after this long (it is cancelled, the VM stays on the source). */
    timeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
    /** Encrypt and authenticate the migration stream (TLS with MigLab's own CA; both ends verify each other). */
    tls: z.boolean().default(false),
    /** Keep the running guest between runs when its definition is unchanged (no boot); runs then alternate direction. */
    reuseGuest: z.boolean().default(false),
    /** The network (its uuid) the memory stream goes over, for drivers that can choose (`migration.networks`); absent: the hypervisor's default. */
    migrationNetwork: z.string().max(36).regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a network uuid (xe network-list)').optional(),
  })
  .strict()
export type MigrationParams = z.output<typeof migrationParams>

const size = z.number().int().min(1).max(65_536)
export const workload = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle') }).strict(),
  z.object({ kind: z.literal('dirty'), bufferMiB: size, rateMiBs: z.number().min(0).max(100_000) }).strict(),
  z.object({ kind: z.literal('echo') }).strict(),
  z.object({ kind: z.literal('custom'), command: z.string().min(1).max(1000) }).strict(),
])
export type Workload = z.infer<typeof workload>

/** `idle`, `echo`, `dirty:64M:50` (buffer, MiB/s), `custom:<command>`: the CLI's words and the runs table's labels. */
export function workloadLabel(w: Workload): string {
  switch (w.kind) {
    case 'dirty':
      return `dirty:${w.bufferMiB}M:${w.rateMiBs}`
    case 'custom':
      return `custom:${w.command}`
    default:
      return w.kind
  }
}

export function parseWorkload(text: string): Workload {
  const t = text.trim()
  if (t === 'idle' || t === 'echo') return { kind: t }
  if (t.startsWith('custom:') && t.length > 7) return { kind: 'custom', command: t.slice(7) }
  const m = /^dirty:(\d+)[mM]?:(\d+(?:\.\d+)?)$/.exec(t)
  if (m) return workload.parse({ kind: 'dirty', bufferMiB: Number(m[1]), rateMiBs: Number(m[2]) })
  throw new Error(`Unknown workload "${text}": use idle, echo, dirty:<MiB>M:<MiB/s> or custom:<command>.`)
}

// Node names follow the nodes contract; VM names are the hypervisor's, so anything printable goes.
const nodeName = labName
const vmName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\p{Cc}]*$/u, 'no control characters (newlines, escapes, tabs)')

export const migrationInputs = {
  'vms.list': z.object({ labId: id }).strict(),
  'vms.start': z.object({ labId: id, vm: vmName, node: nodeName }).strict(),
  'vms.stop': z.object({ labId: id, vm: vmName, node: nodeName.optional() }).strict(),
  'migration.capabilities': z.object({ labId: id }).strict(),
  'migration.networks': z.object({ labId: id }).strict(),
  'experiments.start': z
    .object({
      labId: id,
      vm: vmName,
      from: nodeName,
      to: nodeName,
      strategies: z.array(strategyId).min(1).max(strategyIds.length),
      workloads: z.array(workload).min(1).max(16),
      repetitions: z.number().int().min(1).max(1000),
      params: migrationParams.default(() => migrationParams.parse({})),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.from === v.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'source and destination must differ' })
      const postcopyKnobs = v.params.postcopyAfterPasses !== undefined || v.params.postcopyAfterMs !== undefined
      if (postcopyKnobs && !v.strategies.includes('postcopy')) {
        ctx.addIssue({ code: 'custom', path: ['params'], message: 'post-copy switch-over settings need the postcopy strategy' })
      }
    }),
  'runs.get': z.object({ id }).strict(),
  'runs.compare': z.object({ ids: z.array(id).min(1).max(10_000), baseline: strategyId.optional() }).strict(),
} as const

export interface VmInfo {
  name: string
  node: string
  /** QEMU run state (running, paused, postmigrate, inmigrate…), or 'unknown' when QMP did not answer. */
  state: string
  memoryMiB: number
  sharedMemory: boolean
}

export interface StrategySupport {
  id: StrategyId
  label: string
  supported: boolean
  /** Why not, in words, when unsupported (the UI shows it on the disabled choice). */
  reason?: string
}

/** A network a migration can be sent over. */
export interface MigrationNetwork {
  uuid: string
  name: string
  bridge: string
}

/** Whether the lab's driver can choose the migration network, and the networks it can choose from. */
export interface MigrationNetworks {
  supported: boolean
  /** Why not, when unsupported. */
  reason?: string
  networks: MigrationNetwork[]
}

export interface RunEvent {
  tMs: number
  kind: string
  data: Record<string, unknown>
}

/** A run with everything it measured: the summary's fields plus parameters, environment and time series. */
export interface RunDetail extends RunSummary {
  jobId: string | null
  params: Record<string, unknown>
  environment: Record<string, unknown>
  error?: { code: string; message: string; detail?: Record<string, unknown> }
  /** Series name → [t_ms, value] pairs in time order. */
  samples: Record<string, [number, number][]>
  events: RunEvent[]
}

export interface MetricStats {
  n: number
  mean: number
  sd: number
  /** Half-width of the 95 % confidence interval of the mean (t-distribution). */
  ci95: number
  /** Mean change against the baseline group with the same workload, in %; absent for the baseline. */
  changePct?: number
  /** That change's own 95 % interval (Welch) and whether it separates the groups; absent for the baseline. */
  change?: { lo: number; hi: number; distinguishable: boolean; neededN?: number }
}

export interface GroupStats {
  strategy: string
  workload: string
  runIds: number[]
  metrics: Record<string, MetricStats>
}

export interface Comparison {
  baseline: string
  groups: GroupStats[]
}

export interface MigrationResults {
  'vms.list': VmInfo[]
  'vms.start': VmInfo
  /** The nodes the VM was stopped on. */
  'vms.stop': { stoppedOn: string[] }
  'migration.capabilities': StrategySupport[]
  'migration.networks': MigrationNetworks
  'experiments.start': JobInfo
  'runs.get': RunDetail
  'runs.compare': Comparison
}
