import type { Method } from '../../shared/api'
import type { JobInfo, LogLine } from '../../shared/domain'
import type { ApiEvent } from '../../shared/events'
import { MigLabError } from '../../shared/errors'
import { createCore, type Core } from '../core'
import { dispatch } from '../doors/dispatch'
import { resolveDataDir } from '../paths'
import { printable } from './words'

/** A contract call from the CLI: through the same dispatch (and input checks) as the other doors. */
export async function call<T>(core: Core, method: Method, input: unknown): Promise<T> {
  const outcome = await dispatch(core.handlers, method, input)
  if (!outcome.ok) throw new MigLabError(outcome.error.code, outcome.error.message, outcome.error.detail)
  return outcome.result as T
}

/** A core on the shared history for the length of one command. */
export async function withCore<T>(body: (core: Core) => Promise<T>): Promise<T> {
  const core = createCore({ dataDir: resolveDataDir(), door: 'browser' })
  try {
    return await body(core)
  } finally {
    await core.close()
  }
}

/**
 * Starts a job and follows it to its end: each step on stderr with its percentage, warnings and
 * errors as they are logged (`info` lines too with opts.info); Ctrl+C cancels it. Returns the final state and every log line.
 */
export async function followJob(core: Core, start: () => Promise<JobInfo>, onCancel = 'Cancelling…', opts: { info?: boolean } = {}): Promise<{ done: JobInfo; logs: LogLine[] }> {
  let jobId: string | undefined
  let lastStep = ''
  const logs: LogLine[] = []
  // A job reports its first step before `start` returns its id: hold events until the id is known.
  const early: ApiEvent[] = []
  const show = (e: ApiEvent) => {
    if (e.type === 'job' && e.job.id === jobId && e.job.status === 'running' && e.job.step !== lastStep) {
      lastStep = e.job.step
      const pct = e.job.progress === null ? '    ' : `${Math.round(e.job.progress * 100)}%`.padStart(4)
      console.error(`[${pct}] ${printable(lastStep)}`)
    }
    if (e.type === 'log' && e.line.jobId === jobId) {
      logs.push(e.line)
      if (e.line.level !== 'info' || opts.info) console.error(`  ${e.line.message.split('\n').map(printable).join('\n    ')}`)
    }
  }
  const unsubscribe = core.subscribe((e) => (jobId ? show(e) : early.push(e)))
  const cancel = () => {
    console.error(onCancel)
    if (jobId) core.services.jobs.cancel(jobId)
  }
  process.once('SIGINT', cancel)
  try {
    const job = await start()
    jobId = job.id
    early.forEach(show)
    return { done: await core.services.jobs.wait(job.id), logs }
  } finally {
    process.off('SIGINT', cancel)
    unsubscribe()
  }
}
