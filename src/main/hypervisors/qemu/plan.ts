import type { MigrationParams, StrategyId } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import type { VmSpec } from '../driver'

/** What QEMU must be told for one strategy: capabilities on each side, parameters on each side. */
export interface QemuMigrationPlan {
  /** Set on both sides: some (postcopy-ram, x-ignore-shared, multifd) must match or the stream is refused. */
  capabilities: Record<string, boolean>
  sourceParameters: Record<string, unknown>
  destinationParameters: Record<string, unknown>
  postcopy?: { afterPasses?: number; afterMs?: number }
  /** DSM over the network: the runtime replicates the RAM file; the final sync happens at pre-switchover. */
  dsmRuntime?: boolean
}

const MiB = 1024 * 1024
const QEMU_DEFAULT_DOWNTIME_LIMIT_MS = 300

/** The QOM id of the tls-creds-x509 object MigLab adds on both sides for TLS streams. */
export const TLS_CREDS_ID = 'miglab-tls'

/** Default switch-over when neither knob is given: after the first full pass has had time to run. */
export const DEFAULT_POSTCOPY_AFTER_MS = 1500

/**
 * Turns a strategy and its parameters into QEMU settings, refusing combinations that are unsafe
 * before anything starts. Pure.
 */
export function planMigration(spec: VmSpec, strategy: StrategyId, params: MigrationParams): QemuMigrationPlan {
  const shared = spec.sharedMemoryPath !== undefined
  if (shared && strategy !== 'dsm') {
    // Without x-ignore-shared the destination writes the copy into the live shared file: the guest is corrupted.
    throw new MigLabError('unsafe_shared_memory', `VM "${spec.name}" keeps its RAM in shared memory; migrating it with ${strategy} would copy RAM into the file the running guest uses and corrupt it.`, {
      hint: 'Use the dsm strategy (x-ignore-shared) for this VM, or boot it without shared memory.',
      strategy,
    })
  }
  if (strategy === 'dsm' && !shared) {
    throw new MigLabError('shared_memory_missing', `The dsm strategy needs VM "${spec.name}" to keep its RAM in shared memory, and it does not.`, {
      hint: 'Boot the VM with a shared memory file (the experiment runner does this for dsm runs).',
    })
  }
  if (strategy === 'dsm-runtime' && !spec.localMemoryPath) {
    throw new MigLabError('local_memory_missing', `DSM over the network needs VM "${spec.name}" to keep its RAM in a file in the node's own memory, and it does not.`, {
      hint: 'Boot the VM with its RAM in a node-local file (the experiment runner does this for dsm-runtime runs).',
    })
  }
  const capabilities: Record<string, boolean> = {
    'postcopy-ram': strategy === 'postcopy',
    // The RAM file is not in the stream: shared by both nodes (dsm), or replicated by the runtime (dsm-runtime).
    'x-ignore-shared': strategy === 'dsm' || strategy === 'dsm-runtime',
    // Always set (QEMU keeps capabilities across migrations): only the runtime's final sync needs the pause.
    'pause-before-switchover': strategy === 'dsm-runtime',
    xbzrle: strategy === 'xbzrle',
    multifd: strategy === 'multifd',
    'auto-converge': strategy === 'auto-converge',
  }
  // Always set: '' turns TLS off on a QEMU that had it (the id is the object migrate.ts adds).
  const common: Record<string, unknown> = { 'tls-creds': params.tls ? TLS_CREDS_ID : '' }
  if (strategy === 'multifd') common['multifd-channels'] = params.multifdChannels
  const sourceParameters: Record<string, unknown> = { ...common, 'max-bandwidth': Math.round(params.maxBandwidthMiBs * MiB) }
  // Always set: the source QEMU keeps parameters across migrations, so an earlier run's limit would leak.
  sourceParameters['downtime-limit'] = params.downtimeLimitMs ?? QEMU_DEFAULT_DOWNTIME_LIMIT_MS
  if (strategy === 'xbzrle' && params.xbzrleCacheMiB !== undefined) sourceParameters['xbzrle-cache-size'] = params.xbzrleCacheMiB * MiB
  const plan: QemuMigrationPlan = { capabilities, sourceParameters, destinationParameters: common }
  if (strategy === 'dsm-runtime') plan.dsmRuntime = true
  if (strategy === 'postcopy') {
    const { postcopyAfterPasses: afterPasses, postcopyAfterMs } = params
    plan.postcopy = { afterPasses, afterMs: afterPasses === undefined && postcopyAfterMs === undefined ? DEFAULT_POSTCOPY_AFTER_MS : postcopyAfterMs }
  }
  return plan
}
