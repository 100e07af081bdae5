import { afterEach, describe, expect, it } from 'vitest'
import type { ApiEvent } from '../src/shared/events'
import { tempCore } from './helpers'

let dispose: (() => Promise<void>) | undefined
afterEach(async () => dispose?.())

describe('jobs: long work with progress, cancel and a durable record', () => {
  it('publishes progress and stores the result', async () => {
    const t = tempCore()
    dispose = t.dispose
    const events: ApiEvent[] = []
    t.core.subscribe((e) => events.push(e))
    const job = t.core.services.jobs.start('test', 'Counting', { to: 3 }, async (ctx) => {
      for (let i = 1; i <= 3; i++) ctx.progress(i / 3, `step ${i}`)
      return { counted: 3 }
    })
    const done = await t.core.services.jobs.wait(job.id)
    expect(done).toMatchObject({ status: 'succeeded', progress: 1, result: { counted: 3 } })
    const steps = events.flatMap((e) => (e.type === 'job' ? [e.job.step] : []))
    expect(steps).toEqual(expect.arrayContaining(['step 1', 'step 2', 'step 3', 'Done']))
    expect((await t.core.handlers['jobs.list']({}))[0]).toMatchObject({ id: job.id, status: 'succeeded', result: { counted: 3 } })
  })

  it('cancels: the body sees the abort and the job ends cancelled, logged', async () => {
    const t = tempCore()
    dispose = t.dispose
    const job = t.core.services.jobs.start('test', 'Waiting', {}, async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      ctx.checkCancelled()
    })
    expect(await t.core.handlers['jobs.cancel']({ id: job.id })).toEqual({ cancelled: true })
    expect(await t.core.services.jobs.wait(job.id)).toMatchObject({ status: 'cancelled' })
    const logged = t.core.services.db.prepare('SELECT level, message FROM logs WHERE job_id = ?').all(job.id)
    expect(logged).toEqual([{ level: 'warn', message: 'Waiting: cancelled.' }])
  })

  it('records a failure with its code and message', async () => {
    const t = tempCore()
    dispose = t.dispose
    const job = t.core.services.jobs.start('test', 'Failing', {}, async () => {
      throw new Error('disk full')
    })
    expect(await t.core.services.jobs.wait(job.id)).toMatchObject({ status: 'failed', error: { code: 'internal', message: 'disk full' } })
  })
})
