import { setTimeout as sleep } from 'node:timers/promises'
import type { MigrationParams, StrategyId } from '../../../shared/contract/migration'
import { MigLabError, toApiError } from '../../../shared/errors'
import type { MigrateHooks, MigrationOutcome } from '../driver'
import type { NodeLink } from '../node-link'
import type { QemuDriver } from './driver'
import { DsmRuntime, type DsmLine } from './dsm-runtime'
import { planMigration, TLS_CREDS_ID } from './plan'
import type { QmpClient, QmpEvent } from './qmp'
import { pollUntil, waitFor } from '../../util/poll'
import { epochAtZero as preciseEpochAtZero } from '../../util/epoch'

/** query-migrate's reply, as far as MigLab reads it. */
interface MigrateInfo {
  status: string
  'total-time'?: number
  downtime?: number
  'expected-downtime'?: number
  'setup-time'?: number
  'error-desc'?: string
  'cpu-throttle-percentage'?: number
  ram?: {
    transferred: number
    remaining: number
    total: number
    'dirty-pages-rate': number
    mbps: number
    'dirty-sync-count': number
    'postcopy-requests'?: number
  }
}

const POLL_MS = 20
const TERMINAL = new Set(['completed', 'failed', 'cancelled'])
/** Background rounds the DSM runtime completes before QEMU is asked to migrate (the first copies everything). */
const DSM_ROUNDS_BEFORE_MIGRATE = 2
/** Pause between the runtime's background rounds. */
const DSM_PAUSE_MS = 20
const DSM_FINAL_TIMEOUT_MS = 30_000

function sampleOf(info: MigrateInfo): Record<string, number> {
  const v: Record<string, number> = {}
  if (info.ram) {
    v['qemu.transferred_bytes'] = info.ram.transferred
    v['qemu.remaining_bytes'] = info.ram.remaining
    v['qemu.total_bytes'] = info.ram.total
    v['qemu.dirty_pages_rate'] = info.ram['dirty-pages-rate']
    v['qemu.mbps'] = info.ram.mbps
    v['qemu.pass'] = info.ram['dirty-sync-count']
    if (info.ram['postcopy-requests'] !== undefined) v['qemu.postcopy_requests'] = info.ram['postcopy-requests']
  }
  if (info['expected-downtime'] !== undefined) v['qemu.expected_downtime_ms'] = info['expected-downtime']
  if (info['cpu-throttle-percentage'] !== undefined) v['qemu.cpu_throttle_pct'] = info['cpu-throttle-percentage']
  return v
}

/**
 * One live migration, end to end. The VM runs exactly once before and after: on success the
 * source QEMU is quit; on cancel or failure the destination QEMU is removed and the source runs on.
 */
export async function runMigration(
  d: QemuDriver,
  vm: string,
  from: NodeLink,
  to: NodeLink,
  strategy: StrategyId,
  params: MigrationParams,
  hooks: MigrateHooks,
): Promise<MigrationOutcome> {
  const { signal, clock } = hooks
  if (signal?.aborted) throw new MigLabError('cancelled', 'The migration was cancelled before it started.')
  const [source, onDestination] = await Promise.all([d.instanceOn(from, vm), d.instanceOn(to, vm)])
  if (!source) throw new MigLabError('vm_not_found', `VM "${vm}" is not running on node ${from.name}.`)
  // Refuses unsafe combinations (shared RAM without x-ignore-shared) before anything starts.
  const plan = planMigration(source.spec, strategy, params)
  if (onDestination) {
    throw new MigLabError('vm_runs_twice', `VM "${vm}" runs on both ${from.name} and ${to.name}; it must run only on ${from.name} before migrating.`, { hint: 'Stop the extra copy first.' })
  }
  const src = await d.qmp(from, vm)
  const before = await src.execute<{ status: string }>('query-status')
  if (before.status !== 'running') throw new MigLabError('vm_not_running', `VM "${vm}" on ${from.name} is ${before.status}, not running.`)

  const emit = (kind: string, node: string | undefined, data: Record<string, unknown>) => hooks.onEvent?.({ tMs: clock(), kind, node, data })
  const [srcClock, measuredDst] = await Promise.all([d.clock(from), d.clock(to)])
  // One kernel, one clock: reuse the source's offset so the two estimates' errors cannot split it.
  const sameClock = srcClock.bootId !== '' && srcClock.bootId === measuredDst.bootId
  const dstClock = sameClock ? srcClock : measuredDst
  const epochAtZero = preciseEpochAtZero(clock)
  const onTimeline = (qemuTimeMs: number, offsetMs: number) => qemuTimeMs - offsetMs - epochAtZero

  let stopEvent: QmpEvent | undefined
  let resumeEvent: QmpEvent | undefined
  const unsubscribe: (() => void)[] = []
  const watch = (client: QmpClient, node: NodeLink, role: 'source' | 'destination') =>
    unsubscribe.push(
      client.onEvent((e) => {
        if (e.event === 'STOP' && role === 'source' && !stopEvent) stopEvent = e
        if (e.event === 'RESUME' && role === 'destination' && !resumeEvent) resumeEvent = e
        // nodeTimeMs: the node's own clock; with the stored offsets it places the event on the run timeline.
        emit(e.event, node.name, { ...e.data, role, nodeTimeMs: e.qemuTimeMs })
      }),
    )
  watch(src, from, 'source')

  let dst: QmpClient | undefined
  let last: MigrateInfo | undefined
  let switchedToPostcopy = false
  let runtime: DsmRuntime | undefined
  let dsm: DsmFigures | undefined
  try {
    await d.terminate(to, vm, null) // leftovers of an earlier failed attempt; the VM does not run there (checked)
    emit('phase', to.name, { phase: 'destination-start' })
    await d.launch(to, source.spec, true)
    dst = await d.qmp(to, vm)
    watch(dst, to, 'destination')
    if (params.tls) {
      const [srcDir, dstDir] = await Promise.all([d.tlsDir(from), d.tlsDir(to)])
      await Promise.all([addTlsCreds(src, srcDir, 'client'), addTlsCreds(dst, dstDir, 'server')])
      // The source checks the destination's certificate against its lab address.
      plan.sourceParameters['tls-hostname'] = to.address
    }
    const caps = Object.entries({ ...plan.capabilities, events: true }).map(([capability, state]) => ({ capability, state }))
    await Promise.all([src.execute('migrate-set-capabilities', { capabilities: caps }), dst.execute('migrate-set-capabilities', { capabilities: caps })])
    await src.execute('migrate-set-parameters', plan.sourceParameters)
    if (Object.keys(plan.destinationParameters).length) await dst.execute('migrate-set-parameters', plan.destinationParameters)
    const port = 49152 + Math.floor(Math.random() * 12000)
    // Only on the lab address: QEMU's incoming side has no authentication of its own.
    await dst.execute('migrate-incoming', { uri: tcpUri(to.address, port) })
    // The clocks ride along so STOP/RESUME can be placed on the timeline again from stored events alone.
    const clocks = { epochAtZero, sourceOffsetMs: srcClock.offsetMs, destinationOffsetMs: dstClock.offsetMs }
    if (plan.dsmRuntime) {
      dsm = { startedAtMs: clock() }
      runtime = await startDsmRuntime(from, to, source.spec.localMemoryPath!, hooks, emit)
      // The first round copies what differs from the replica, later ones only changed pages: the final
      // sync, which the stopped guest waits for, is left only what changed since the last round.
      await runtime.whenLine((l) => l.event === 'round' && (l.round ?? 0) >= DSM_ROUNDS_BEFORE_MIGRATE - 1, params.timeoutMs, `${DSM_ROUNDS_BEFORE_MIGRATE} background rounds`).catch((err: unknown) => {
        // A cancel kills the runtime, which then reports its end: the cause is the cancel.
        throw signal?.aborted ? new MigLabError('cancelled', 'The migration was cancelled while the DSM runtime copied the guest\'s RAM.') : err
      })
      dsm.migrateAtMs = clock()
    }
    // At pre-switchover (vCPUs stopped, the source waiting for migrate-continue): the final sync, then on.
    let switchover: Promise<void> | undefined
    const startSwitchover = () => (switchover ??= finalSync(runtime!, src, d.testOnlySkipDsmFinalSync, clock, dsm!))
    if (runtime) unsubscribe.push(src.onEvent((e) => e.event === 'MIGRATION' && e.data.status === 'pre-switchover' && void startSwitchover().catch(() => undefined)))
    emit('phase', from.name, { phase: 'migrate', uri: tcpUri(to.address, port), strategy, tls: params.tls, capabilities: plan.capabilities, parameters: plan.sourceParameters, clocks })
    const startedAt = clock()
    await src.execute('migrate', { uri: tcpUri(to.address, port) })

    let cancelSent = false
    let timedOut = false
    let status = ''
    for (;;) {
      const info = await src.execute<MigrateInfo>('query-migrate', undefined, 5000)
      last = info
      hooks.onSample?.({ tMs: clock(), values: sampleOf(info) })
      if (info.status !== status) {
        status = info.status
        emit('status', from.name, { status })
      }
      if (TERMINAL.has(status)) break
      if (runtime && status === 'pre-switchover') await startSwitchover()
      const elapsed = clock() - startedAt
      if (plan.postcopy && !switchedToPostcopy && status === 'active') {
        const passes = info.ram?.['dirty-sync-count'] ?? 0
        const { afterPasses, afterMs } = plan.postcopy
        if ((afterPasses !== undefined && passes >= afterPasses) || (afterMs !== undefined && elapsed >= afterMs)) {
          await src.execute('migrate-start-postcopy')
          switchedToPostcopy = true
          emit('phase', from.name, { phase: 'postcopy-start', passes, elapsedMs: elapsed })
        }
      }
      // Once post-copy runs, neither side holds the whole VM: it cannot be cancelled, only finished.
      const cancellable = !status.startsWith('postcopy')
      if (!cancelSent && cancellable && (signal?.aborted || elapsed > params.timeoutMs)) {
        timedOut = !signal?.aborted
        await src.execute('migrate_cancel')
        cancelSent = true
        emit('phase', from.name, { phase: 'cancel', reason: timedOut ? 'timeout' : 'user' })
      }
      await sleep(POLL_MS)
    }

    if (status !== 'completed') {
      if (cancelSent && timedOut) throw new MigLabError('migration_timeout', `The migration did not finish within ${params.timeoutMs} ms and was cancelled.`, { hint: 'Raise max bandwidth, or pick a strategy that converges (postcopy, auto-converge, dsm).' })
      if (cancelSent) throw new MigLabError('cancelled', 'The migration was cancelled.')
      throw new MigLabError('migration_failed', `QEMU reports the migration ${status}: ${last?.['error-desc'] ?? 'no reason given'}.`, { qemuError: last?.['error-desc'] })
    }
    // QEMU 7.2 sets `completed` before it computes total-time and downtime (migration_calculate_complete):
    // until total-time is non-zero the figures are not final. Then downtime 0 is real: under 1 ms.
    const final = await pollUntil(async () => {
      const info = await src.execute<MigrateInfo>('query-migrate')
      return info['total-time'] ? info : undefined
    }, { timeoutMs: 10_000, intervalMs: POLL_MS })
    if (final) last = final
    if (switchover) await switchover
    await waitStatus(dst, 'running', 10_000, `destination ${to.name}`)
    const srcState = await src.execute<{ status: string }>('query-status')
    emit('phase', from.name, { phase: 'source-quit', sourceState: srcState.status })
    await d.terminate(from, vm, source)
    const after = await d.whereRunning(vm, [from, to])
    if (after.length !== 1 || after[0] !== to.name) {
      throw new MigLabError('vm_state_unclear', `After the migration VM "${vm}" runs on [${after.join(', ')}], expected only ${to.name}.`)
    }
    // Events may trail the final reply by a few ms.
    await waitFor(() => !!(stopEvent && resumeEvent), { timeoutMs: 500, intervalMs: POLL_MS })
    const { figures, unmeasured } = finalFigures(final)
    if (runtime) {
      await runtime.stop()
      Object.assign(figures, dsmFigures(runtime, dsm!, figures, unmeasured))
    }
    const outcome: MigrationOutcome = {
      figures,
      unmeasured,
      raw: { ...last, sourceStateAfter: srcState.status, clockOffsets: { [from.name]: srcClock, [to.name]: dstClock } },
    }
    if (stopEvent && resumeEvent) {
      outcome.stopAtMs = onTimeline(stopEvent.qemuTimeMs, srcClock.offsetMs)
      outcome.resumeAtMs = onTimeline(resumeEvent.qemuTimeMs, dstClock.offsetMs)
      figures.stop_resume_ms = outcome.resumeAtMs - outcome.stopAtMs
      // How far node events may sit from MigLab's own samples (the probe) on the run timeline.
      figures.clock_uncertainty_ms = Math.max(srcClock.uncertaintyMs, dstClock.uncertaintyMs)
    } else unmeasured.stop_resume_ms = `QMP ${stopEvent ? 'RESUME' : 'STOP'} event not received`
    return outcome
  } catch (err) {
    const e = toApiError(err)
    const measured = last ? { lastInfo: last } : {}
    if (runtime) {
      // A source paused at pre-switchover waits for migrate-continue forever: cancel it first, so it
      // resumes; the runtime ends at the end of its stdin without touching the source's RAM.
      await src.execute('migrate_cancel', undefined, 5000).catch(() => undefined)
      await runtime.stop()
      emit('dsm', from.name, { event: 'stopped', totalBytes: runtime.totalBytes })
    }
    // MigLab may have lost sight of a migration that went on without it (a dropped link, a lost QMP
    // channel): ask the source afresh before deciding which copy to keep.
    const completed = last?.status === 'completed' || (await freshStatus(d, from, vm)) === 'completed'
    if (completed) {
      // The VM already sent itself away: never roll back onto the source (it would kill the only
      // running copy). Finish forward: the source's paused copy goes, the destination must run.
      const kept = await finishForward(d, vm, from, to).catch(() => undefined)
      const where = kept?.runningOn
      const fate = kept?.on === 'destination' ? 'the VM was kept on the destination' : kept?.on === 'source' ? `the destination stopped after the switchover (${kept.why}), so the VM was resumed on the source` : 'where the VM runs is unclear'
      throw new MigLabError(kept ? 'after_migration_failed' : 'vm_state_unclear', `The migration completed, then MigLab lost track of it (${e.message.replace(/\.$/, '')}); ${fate}.`, {
        ...e.detail,
        ...measured,
        runningOn: where,
        hint: where?.length === 1 ? `VM "${vm}" runs on ${where[0]} only.` : `Check where VM "${vm}" runs on ${from.name} and ${to.name} (found: ${where?.join(', ') || 'unknown'}).`,
      })
    }
    if (switchedToPostcopy) {
      throw new MigLabError('postcopy_failed', `The post-copy migration failed after the switch-over (${e.message}); neither node holds the whole VM.`, {
        ...e.detail,
        ...measured,
        hint: 'Both QEMUs were left as they are for inspection; stop the VM on both nodes and boot it again.',
      })
    }
    let rollback: Record<string, unknown> = {}
    try {
      await rollBack(d, vm, from, to, emit)
    } catch (r) {
      rollback = { rollbackError: toApiError(r), hint: `Check where VM "${vm}" runs on ${from.name} and ${to.name}; the rollback failed.` }
    }
    throw new MigLabError(e.code, e.message, { ...e.detail, ...measured, ...rollback })
  } finally {
    for (const u of unsubscribe) u()
  }
}

async function waitStatus(client: QmpClient, want: string, ms: number, what: string): Promise<void> {
  let s = ''
  const reached = await waitFor(async () => (s = (await client.execute<{ status: string }>('query-status')).status) === want, { timeoutMs: ms, intervalMs: POLL_MS })
  if (!reached) throw new MigLabError('vm_state_unclear', `The ${what} is ${s}, not ${want}, ${ms} ms after the migration completed.`)
}

/** MigLab's TLS credentials in a QEMU (replacing an earlier object of the same id); both ends verify their peer. */
async function addTlsCreds(q: QmpClient, dir: string, endpoint: 'client' | 'server'): Promise<void> {
  await q.execute('object-del', { id: TLS_CREDS_ID }).catch(() => undefined)
  await q.execute('object-add', { 'qom-type': 'tls-creds-x509', id: TLS_CREDS_ID, dir, endpoint, 'verify-peer': true })
}

/** QEMU accepts IPv6 literals only in brackets. */
const tcpUri = (address: string, port: number): string => `tcp:${address.includes(':') ? `[${address}]` : address}:${port}`

/** query-migrate's final figures by metric key; those QEMU did not give are named, not zeroed. */
function finalFigures(info: MigrateInfo | undefined): { figures: Record<string, number>; unmeasured: Record<string, string> } {
  const figures: Record<string, number> = {}
  const unmeasured: Record<string, string> = {}
  if (!info) {
    for (const k of ['qemu_downtime_ms', 'total_ms', 'transferred_bytes', 'passes']) unmeasured[k] = 'QEMU gave no final figures within 10 s of completing'
    return { figures, unmeasured }
  }
  const put = (key: string, v: number | undefined) => (v === undefined ? (unmeasured[key] = 'not in QEMU\'s query-migrate reply') : (figures[key] = v))
  put('qemu_downtime_ms', info.downtime)
  put('total_ms', info['total-time'])
  put('transferred_bytes', info.ram?.transferred)
  put('passes', info.ram?.['dirty-sync-count'])
  if (info['setup-time'] !== undefined) figures.setup_ms = info['setup-time']
  return { figures, unmeasured }
}

/** The source's migration status from a new QMP connection; undefined when it cannot be asked. */
async function freshStatus(d: QemuDriver, from: NodeLink, vm: string): Promise<string | undefined> {
  d.dropQmp(from, vm)
  try {
    return (await (await d.qmp(from, vm)).execute<MigrateInfo>('query-migrate', undefined, 5000)).status
  } catch {
    return undefined
  }
}

/**
 * After a completed migration that MigLab lost track of: a running destination keeps the VM (the
 * source's paused copy goes); a destination that is gone (its guest reset, its QEMU died) leaves the
 * source's complete, paused copy, which is resumed. Either way the VM runs exactly once.
 */
async function finishForward(d: QemuDriver, vm: string, from: NodeLink, to: NodeLink): Promise<{ on: 'destination' | 'source'; why?: string; runningOn: string[] }> {
  const there = await d.state(to, vm)
  if (there === 'running') {
    await d.terminate(from, vm)
    return { on: 'destination', runningOn: await d.whereRunning(vm, [from, to]) }
  }
  await d.terminate(to, vm)
  d.dropQmp(from, vm)
  await (await d.qmp(from, vm)).execute('cont')
  return { on: 'source', why: there === 'unknown' ? 'its QEMU is gone' : `its QEMU is ${there}`, runningOn: await d.whereRunning(vm, [from, to]) }
}

/** After cancel or failure: destination QEMU gone, source running, and nowhere else. */
async function rollBack(d: QemuDriver, vm: string, from: NodeLink, to: NodeLink, emit: (kind: string, node: string | undefined, data: Record<string, unknown>) => void): Promise<void> {
  await d.terminate(to, vm)
  const src = await d.qmp(from, vm)
  const { status } = await src.execute<{ status: string }>('query-status')
  // A failure after the source stopped its vCPUs (final stage) leaves it paused: resume it.
  if (status !== 'running') await src.execute('cont')
  const where = await d.whereRunning(vm, [from, to])
  emit('phase', from.name, { phase: 'rolled-back', sourceStateBefore: status, runningOn: where })
  if (where.length !== 1 || where[0] !== from.name) {
    throw new MigLabError('vm_state_unclear', `After the failed migration VM "${vm}" runs on [${where.join(', ')}], expected only ${from.name}.`)
  }
}

/** When the DSM runtime's phases happened on the run timeline, and what its final sync reported. */
interface DsmFigures {
  startedAtMs: number
  migrateAtMs?: number
  final?: DsmLine
  /** From sending `final` to its line arriving: what the stopped guest waited for the sync. */
  finalWaitMs?: number
}

/** The runtime between the two nodes, its progress stored as samples (bytes, pages, ms per round) and events. */
async function startDsmRuntime(from: NodeLink, to: NodeLink, ramFile: string, hooks: MigrateHooks, emit: (kind: string, node: string | undefined, data: Record<string, unknown>) => void): Promise<DsmRuntime> {
  emit('phase', from.name, { phase: 'dsm-runtime-start', ramFile })
  return DsmRuntime.start({
    from,
    to,
    sourceFile: ramFile,
    replicaFile: ramFile,
    pauseMs: DSM_PAUSE_MS,
    signal: hooks.signal,
    onLine: (l) => {
      const t = hooks.clock()
      if (l.event === 'round' || l.event === 'final') {
        hooks.onSample?.({ tMs: t, values: { 'dsm.bytes': l.totalBytes ?? 0, 'dsm.round_pages': l.pages ?? 0, 'dsm.round_ms': l.ms ?? 0 } })
      }
      if (l.event !== 'round') emit('dsm', from.name, { ...l })
    },
  })
}

/**
 * The source is stopped at pre-switchover: the runtime's final sync moves the pages changed since its
 * last round, then QEMU switches over. TEST ONLY `skip` ends the runtime without that sync (the
 * destination then resumes on a stale replica: what the consistency check must catch).
 */
async function finalSync(runtime: DsmRuntime, src: QmpClient, skip: boolean, clock: () => number, f: DsmFigures): Promise<void> {
  const sentAt = clock()
  const from = runtime.lines.length
  runtime.send(skip ? 'skip' : 'final')
  const line = await runtime.whenLine((l) => l.event === (skip ? 'cancelled' : 'final'), DSM_FINAL_TIMEOUT_MS, skip ? 'its end (final sync skipped)' : 'the final sync', from)
  f.finalWaitMs = clock() - sentAt
  if (!skip) f.final = line
  await src.execute('migrate-continue', { state: 'pre-switchover' })
}

/**
 * The runtime's figures; its bytes count in "data sent" with QEMU's stream (the stream alone stays in
 * the run's raw query-migrate reply), so transferred_bytes - dsm_bytes is QEMU's own counter.
 */
function dsmFigures(runtime: DsmRuntime, f: DsmFigures, figures: Record<string, number>, unmeasured: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = { dsm_bytes: runtime.totalBytes, dsm_rounds: runtime.lines.filter((l) => l.event === 'round').length }
  if (f.migrateAtMs !== undefined) out.dsm_presync_ms = f.migrateAtMs - f.startedAtMs
  if (f.final) {
    out.dsm_final_sync_ms = f.final.ms ?? 0
    out.dsm_final_bytes = f.final.bytes ?? 0
  } else unmeasured.dsm_final_sync_ms = 'the final sync was skipped (test only)'
  if (f.finalWaitMs !== undefined) out.dsm_final_wait_ms = f.finalWaitMs
  if (figures.transferred_bytes !== undefined) out.transferred_bytes = figures.transferred_bytes + out.dsm_bytes
  return out
}
