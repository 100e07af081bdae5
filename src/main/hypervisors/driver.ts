import type { MigrationNetwork, MigrationParams, StrategyId, StrategySupport } from '../../shared/contract/migration'
import type { RunRequest } from './guest-definition'
import type { NodeLink } from './node-link'

/** A VM as MigLab defines it: the same definition boots it on any node of the lab. */
export interface VmSpec {
  name: string
  memoryMiB: number
  kernel?: string
  initrd?: string
  append?: string
  /** The guest NIC keeps its MAC on every node; each node plugs it into its own tap. */
  nic?: { mac: string; taps: Record<string, string> }
  /** Guest RAM lives in this file, which both nodes must see as the same memory (DSM / /dev/shm). */
  sharedMemoryPath?: string
  /** Guest RAM lives in this file in the node's own memory; the DSM runtime replicates it to the destination's. */
  localMemoryPath?: string
  /** A raw disk file (the guest's first disk) that every node sees at this path: shared storage, so a migration moves no disk. */
  disk?: string
  /** Text the guest prints on its serial console once its workload runs. */
  readyMarker?: string
  /** Where the guest answers UDP echo (the probe's target). */
  echo?: { ip: string; port: number }
  /** Hypervisor-specific choice, e.g. 'kvm' or 'tcg'; the driver picks when absent. */
  accel?: string
}

export interface VmInstance {
  spec: VmSpec
  node: string
  /** Hypervisor run state: running, paused, postmigrate, inmigrate…; 'unknown' when it did not answer. */
  state: string
  pid: number
}

/** One point of a migration's progress; series names are the driver's (e.g. `qemu.remaining_bytes`). */
export interface MigrationSample {
  tMs: number
  values: Record<string, number>
}

export interface MigrationEvent {
  tMs: number
  kind: string
  node?: string
  data: Record<string, unknown>
}

export interface MigrateHooks {
  signal?: AbortSignal
  /** Milliseconds on the caller's run timeline; samples and events are stamped with it. */
  clock: () => number
  onSample?: (s: MigrationSample) => void
  onEvent?: (e: MigrationEvent) => void
}

/**
 * Final statistics of a completed migration. `figures` uses the metric keys of src/shared/metrics.ts,
 * so the runner stores them without knowing the hypervisor; what the driver could not measure is
 * absent from `figures` and named in `unmeasured` with the reason (never a made-up 0).
 */
export interface MigrationOutcome {
  figures: Record<string, number>
  unmeasured: Record<string, string>
  /** Where STOP and RESUME fell on the caller's timeline. */
  stopAtMs?: number
  resumeAtMs?: number
  raw: Record<string, unknown>
}

/** The one interface the experiment runner knows; each hypervisor implements it. */
export interface HypervisorDriver {
  readonly kind: string
  listVms(nodes: NodeLink[]): Promise<VmInstance[]>
  /** The VM definition one run boots: the run's workload and memory layout applied the way this hypervisor can. */
  definition(base: VmSpec, run: RunRequest): VmSpec
  start(node: NodeLink, spec: VmSpec, opts?: { signal?: AbortSignal; readyTimeoutMs?: number }): Promise<VmInstance>
  /** Stops the VM on that node (no-op when absent) and removes what it left there. */
  stop(node: NodeLink, vm: string): Promise<void>
  /** Every strategy, supported or not (with the reason), for this pair of nodes and parameters. */
  capabilities(nodes: NodeLink[], params: MigrationParams): Promise<StrategySupport[]>
  /** The networks a migration can be sent over (`params.migrationNetwork`); absent when the driver cannot choose. */
  migrationNetworks?(nodes: NodeLink[]): Promise<MigrationNetwork[]>
  /** Facts worth recording with every run: versions, accelerator, host. */
  environment(node: NodeLink): Promise<Record<string, unknown>>
  /**
   * Moves a running VM. Afterwards it runs exactly once: on `to` when this resolves, on `from` when
   * it throws (cancel, failure), with the destination's process gone.
   */
  migrate(vm: string, from: NodeLink, to: NodeLink, strategy: StrategyId, params: MigrationParams, hooks: MigrateHooks): Promise<MigrationOutcome>
  close(): Promise<void>
}
