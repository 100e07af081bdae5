import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { MigrationParams } from '../../../shared/contract/migration'
import { MigLabError } from '../../../shared/errors'
import { absentReasons } from '../../../shared/metrics'
import { readFile, removePaths } from '../../remote/vm'
import * as xe from '../../remote/xe'
import type { MigrateHooks, MigrationOutcome } from '../driver'
import { execOk, type NodeLink } from '../node-link'
import type { XenDriver } from './driver'
import { parseMinimal, parseRecords, parseSet, parseXeTime, type XeRecord } from './xe-parse'

export const POLL_MS = 250
/** How long xapi may take to list the task of a just-started `xe vm-migrate`. */
const TASK_APPEAR_MS = 15_000
const TERMINAL = new Set(['success', 'failure', 'cancelled'])
const tail = (text: string): string => text.trimEnd().split('\n').slice(-15).join('\n')

/** What the detached xe wrote: its output and, once it ended, its exit status. */
function readLog(text: string): { output: string; exit?: number } {
  const m = /^xe-exit=(\d+)$/m.exec(text)
  return { output: text.replace(/^xe-exit=\d+\n?/m, ''), exit: m ? Number(m[1]) : undefined }
}

/**
 * One live migration with `xe vm-migrate live=true`, followed through the xapi task it creates.
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

  const argv = xe.vmMigrateArgv(uuid, dst)
  const command = xe.vmMigrate(uuid, dst).text
  const log = `/tmp/miglab-xe-migrate-${randomBytes(6).toString('hex')}.log`
  const known = new Set(parseMinimal(await execOk(from, xe.taskUuids(), 'Listing xapi tasks', { timeoutMs: 20_000 })))
  const startedAt = clock()
  await execOk(from, xe.detached(log, argv), 'Starting xe vm-migrate', { timeoutMs: 20_000 })
  emit('phase', { phase: 'migrate', command, destinationHost: dst })

  let task: string | undefined
  let last: XeRecord | undefined
  let status = ''
  let cancelSent = false
  let timedOut = false
  let taskMissing = false
  let ended: { output: string; exit?: number } = { output: '' }
  for (;;) {
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
    if (record) {
      last = record
      const progress = Number(record.progress)
      // xapi's progress is a 0–1 float; the series is declared in percent.
      if (Number.isFinite(progress)) hooks.onSample?.({ tMs: clock(), values: { 'xen.progress': progress * 100 } })
      if (record.status !== status) {
        status = record.status
        emit('status', { task, status })
      }
      if (TERMINAL.has(status)) break
    }
    // A synchronous call's task is destroyed when the call returns: then the log tells the end.
    if (!record) {
      ended = readLog((await from.exec(readFile(log), { timeoutMs: 20_000 })).stdout)
      if (ended.exit !== undefined) break
      if (!task && !taskMissing && elapsed > TASK_APPEAR_MS) {
        taskMissing = true
        emit('phase', { phase: 'task-not-found', note: 'no progress samples; cancel is not possible without the task' })
      }
    }
    if (!cancelSent && task && (signal?.aborted || elapsed > params.timeoutMs)) {
      timedOut = !signal?.aborted
      await execOk(from, xe.taskCancel(task), 'Cancelling the migration task', { timeoutMs: 20_000 })
      cancelSent = true
      emit('phase', { phase: 'cancel', reason: timedOut ? 'timeout' : 'user', task })
    }
    await sleep(POLL_MS)
  }
  const endedAt = clock()
  // Wait for xe itself to end, so its last words (the error, if any) are in the log.
  for (let i = 0; ended.exit === undefined && i < 40; i++) {
    ended = readLog((await from.exec(readFile(log), { timeoutMs: 20_000 })).stdout)
    if (ended.exit === undefined) await sleep(POLL_MS)
  }
  await from.exec(removePaths(log), { timeoutMs: 20_000 })

  const succeeded = TERMINAL.has(status) ? status === 'success' : ended.exit === 0
  const after = await d.placement(from, uuid)
  if (!succeeded) {
    const errorInfo = last?.error_info ? parseSet(last.error_info) : undefined
    const onSource = after.residentOn === src && after.state === 'running'
    emit('phase', { phase: 'rolled-back', residentOn: after.residentOn, state: after.state })
    const detail = { command, stderrTail: tail(ended.output), xeErrorInfo: errorInfo, task, lastTask: last }
    if (!onSource) throw new MigLabError('vm_state_unclear', `After the failed migration VM "${vm}" is ${after.state} on host ${after.residentOn || 'none'}, expected running on ${from.name}.`, detail)
    if (cancelSent && timedOut) throw new MigLabError('migration_timeout', `The migration did not finish within ${params.timeoutMs} ms and was cancelled; the VM runs on ${from.name}.`, detail)
    if (cancelSent || signal?.aborted) throw new MigLabError('cancelled', `The migration was cancelled; the VM runs on ${from.name}.`, detail)
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
    },
  }
}
