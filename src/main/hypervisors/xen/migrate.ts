import { randomBytes } from 'node:crypto'
import type { MigrationParams } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import { absentReasons } from '../../../shared/metrics'
import { readFile, removePaths } from '../../remote/vm'
import * as xe from '../../remote/xe'
import type { MigrateHooks, MigrationOutcome } from '../driver'
import { execOk, type NodeLink } from '../node-link'
import { pollUntil } from '../../util/poll'
import type { XenDriver } from './driver'
import { knownXeError, xapiError, xeError } from './xe-errors'
import { parseMinimal, parseProgress, parseRecords, parseSet, parseXeTime, type XeRecord } from './xe-parse'

export const POLL_MS = 250
/** How long xapi may take to list the task of a just-started `xe vm-migrate`. */
const TASK_APPEAR_MS = 15_000
/** How long a cancelled task may take to end before MigLab stops waiting for it. */
const CANCEL_GRACE_MS = 60_000
const TERMINAL = new Set(['success', 'failure', 'cancelled'])
const tail = (text: string): string => text.trimEnd().split('\n').slice(-15).join('\n')

/** What the detached xe wrote: its output and, once it ended, its exit status. */
function readLog(text: string): { output: string; exit?: number } {
  const m = /^xe-exit=(\d+)$/m.exec(text)
  return { output: text.replace(/^xe-exit=\d+\n?/m, ''), exit: m ? Number(m[1]) : undefined }
}

/**
 * One live migration with `xe vm-migrate live=true` (VM.pool_migrate with a `network` option when a
 * migration network is chosen), followed through the xapi task it creates: status from its record,
 * progress from `xe task-param-get`; a progress MigLab cannot read cancels the task.
 * The VM runs exactly once throughout (xapi guarantees it); afterwards its resident-on is checked:
 * the destination host when this resolves, the source host when it throws.
 */
export async function runXenMigration(d: XenDriver, vm: string, from: NodeLink, to: NodeLink, params: MigrationParams, hooks: MigrateHooks): Promise<MigrationOutcome> {
  const { signal, clock } = hooks
  if (signal?.aborted) throw new MigLabError('cancelled', 'The migration was cancelled before it started.')
  const emit = (kind: string, data: Record<string, unknown>) => hooks.onEvent?.({ tMs: clock(), kind, node: from.name, data })
  const [uuid, src, dst] = await Promise.all([d.vmUuid(from, vm), d.hostUuid(from), d.hostUuid(to)])
  if (!uuid) throw new MigLabError('vm_not_found', `The XenServer pool has no VM called "${vm}".`)
  const before = await d.placement(from, uuid)
  if (before.residentOn !== src || before.state !== 'running') {
    throw new MigLabError('vm_not_running', `VM "${vm}" is ${before.state} on host ${before.residentOn || 'none'}, not running on ${from.name} (${src}).`)
  }

  const network = params.migrationNetwork
  if (network) await d.checkMigrationNetwork(from, network)
  // xe works on any host; the API call with a network must be made on the pool master's own socket.
  const runner = network ? await d.poolMaster(from, [from, to]) : from
  const argv = xe.vmMigrateArgv(uuid, dst, network)
  const command = xe.vmMigrate(uuid, dst, network).text
  const log = `/tmp/miglab-xe-migrate-${randomBytes(6).toString('hex')}.log`
  const known = new Set(parseMinimal(await execOk(from, xe.taskUuids(), 'Listing xapi tasks', { timeoutMs: 20_000 })))
  const startedAt = clock()
  await execOk(runner, xe.detached(log, argv), 'Starting the migration', { timeoutMs: 20_000 })
  emit('phase', { phase: 'migrate', command: network ? `VM.pool_migrate live=true network=${network}` : command, destinationHost: dst, ...(network ? { network } : {}) })

  let task: string | undefined
  let last: XeRecord | undefined
  let status = ''
  let cancelSent = false
  let timedOut = false
  let taskMissing = false
  /** An error MigLab found while following the task (unreadable progress): the task is cancelled for it. */
  let fault: MigLabError | undefined
  let ended: { output: string; exit?: number } = { output: '' }

  /** The task's progress, or undefined when the task is already gone (a synchronous call destroys it). */
  const progressOf = async (t: string): Promise<number | undefined> => {
    const c = xe.taskProgress(t)
    const r = await from.exec(c, { timeoutMs: 20_000 })
    if (r.code === 0) return parseProgress(r.stdout)
    const e = xeError(`${r.stderr}${r.stdout}`, c.text)
    if (e.code === 'xen_uuid_unknown' || e.code === 'xen_object_gone') return undefined
    throw e
  }

  /** One look at the migration; true once it has ended. */
  const step = async (): Promise<true | undefined> => {
    const elapsed = clock() - startedAt
    if (!task) {
      // The call's task is the new pending VM.pool_migrate one (named Async.VM.pool_migrate when async).
      const fresh = parseRecords(await execOk(from, xe.pendingTasks(), 'Listing xapi tasks', { timeoutMs: 20_000 })).filter(
        (t) => !known.has(t.uuid) && t['name-label']?.endsWith('VM.pool_migrate'),
      )
      if (fresh.length === 1) {
        task = fresh[0].uuid
        emit('task', { task, nameLabel: fresh[0]['name-label'], created: fresh[0].created })
      }
    }
    const record = task ? parseRecords(await execOk(from, xe.taskRecord(task), 'Reading the migration task', { timeoutMs: 20_000 }))[0] : undefined
    if (record && task) {
      last = record
      if (record.status !== status) {
        status = record.status
        emit('status', { task, status })
      }
      if (!fault) {
        try {
          const progress = await progressOf(task)
          // xapi's progress is a 0–1 float; the series is declared in percent.
          if (progress !== undefined) hooks.onSample?.({ tMs: clock(), values: { 'xen.progress': progress * 100 } })
        } catch (err) {
          if (!(err instanceof MigLabError)) throw err
          fault = err
          emit('phase', { phase: 'progress-error', code: err.code, message: err.message })
        }
      }
      if (TERMINAL.has(status)) return true
    }
    // A synchronous call's task is destroyed when the call returns: then the log tells the end.
    if (!record) {
      ended = readLog((await runner.exec(readFile(log), { timeoutMs: 20_000 })).stdout)
      if (ended.exit !== undefined) return true
      if (!task && !taskMissing && elapsed > TASK_APPEAR_MS) {
        taskMissing = true
        emit('phase', { phase: 'task-not-found', note: 'no progress samples; cancel is not possible without the task' })
      }
    }
    if (!cancelSent && task && (fault || signal?.aborted || elapsed > params.timeoutMs)) {
      timedOut = !fault && !signal?.aborted
      await execOk(from, xe.taskCancel(task), 'Cancelling the migration task', { timeoutMs: 20_000 })
      cancelSent = true
      emit('phase', { phase: 'cancel', reason: fault ? 'fault' : timedOut ? 'timeout' : 'user', task })
    }
    return undefined
  }
  // Cancel is the step's own business (task-cancel, then wait for the end), so no signal here;
  // past the timeout plus this grace the task neither ended nor took the cancel: the checks below say so.
  await pollUntil(step, { timeoutMs: params.timeoutMs + CANCEL_GRACE_MS, intervalMs: POLL_MS })
  const endedAt = clock()
  // Wait for xe itself to end, so its last words (the error, if any) are in the log.
  await pollUntil(async () => {
    ended = readLog((await runner.exec(readFile(log), { timeoutMs: 20_000 })).stdout)
    return ended.exit === undefined ? undefined : true
  }, { timeoutMs: 40 * POLL_MS, intervalMs: POLL_MS })
  await runner.exec(removePaths(log), { timeoutMs: 20_000 })

  const succeeded = TERMINAL.has(status) ? status === 'success' : ended.exit === 0
  const after = await d.placement(from, uuid)
  if (!succeeded) {
    const errorInfo = last?.error_info ? parseSet(last.error_info) : undefined
    const onSource = after.residentOn === src && after.state === 'running'
    emit('phase', { phase: 'rolled-back', residentOn: after.residentOn, state: after.state })
    const detail = { command, stderrTail: tail(ended.output), xeErrorInfo: errorInfo, task, lastTask: last }
    if (!onSource) throw new MigLabError('vm_state_unclear', `After the failed migration VM "${vm}" is ${after.state} on host ${after.residentOn || 'none'}, expected running on ${from.name}.`, detail)
    if (cancelSent && timedOut) throw new MigLabError('migration_timeout', `The migration did not finish within ${params.timeoutMs} ms and was cancelled; the VM runs on ${from.name}.`, detail)
    if (fault) throw new MigLabError(fault.code, `${fault.message} The migration was cancelled for it; the VM runs on ${from.name}.`, { ...fault.detail, ...detail })
    if (cancelSent || signal?.aborted) throw new MigLabError('cancelled', `The migration was cancelled; the VM runs on ${from.name}.`, detail)
    // What xapi said, as a MigLab error with its cause and hint, when MigLab knows it.
    const known = (errorInfo && xapiError(errorInfo, detail)) ?? knownXeError(ended.output, command)
    if (known) throw new MigLabError(known.code, known.message, { ...detail, ...known.detail })
    throw new MigLabError('migration_failed', `xe vm-migrate failed: ${errorInfo?.join(', ') || tail(ended.output).split('\n')[0] || `exit ${ended.exit ?? 'unknown'}`}.`, detail)
  }
  if (after.residentOn !== dst || after.state !== 'running') {
    throw new MigLabError('vm_state_unclear', `After the migration VM "${vm}" is ${after.state} on host ${after.residentOn || 'none'}, expected running on ${to.name}.`, { command, task })
  }

  const created = parseXeTime(last?.created ?? '')
  const finished = parseXeTime(last?.finished ?? '')
  const fromTask = Number.isFinite(created) && Number.isFinite(finished)
  return {
    figures: { total_ms: fromTask ? finished - created : endedAt - startedAt },
    unmeasured: absentReasons('xen'),
    raw: {
      task,
      lastTask: last,
      totalFrom: fromTask ? 'xapi task created → finished' : 'wall clock: xe started → completion seen (±1 poll + one SSH round trip)',
      xeOutput: ended.output.trim() || undefined,
      // The task ended before the cancel for it took: the VM moved, its progress series has a gap.
      progressError: fault?.message,
    },
  }
}
