import { afterEach, describe, expect, it } from 'vitest'
import { dispatch } from '../src/main/doors/dispatch'
import { tempCore } from './helpers'

let dispose: (() => Promise<void>) | undefined
afterEach(async () => dispose?.())

describe('dispatch: the contract at every door', () => {
  it('refuses an unknown method with a code and a hint', async () => {
    const t = tempCore()
    dispose = t.dispose
    const out = await dispatch(t.core.handlers, 'labs.explode', {})
    expect(out).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    expect(!out.ok && out.error.detail?.hint).toBeTruthy()
  })

  it('refuses bad input before the core sees it, naming each bad field', async () => {
    const t = tempCore()
    dispose = t.dispose
    const out = await dispatch(t.core.handlers, 'labs.create', { name: '; rm -rf /', extra: 1 })
    expect(out.ok).toBe(false)
    if (out.ok) return
    expect(out.error.code).toBe('invalid_input')
    const paths = out.error.detail?.issues?.map((i) => i.path) ?? []
    expect(paths).toContain('name')
    expect(t.core.handlers['labs.list'] && (await t.core.handlers['labs.list']({}))).toEqual([])
  })

  it('passes valid input through and returns the result', async () => {
    const t = tempCore()
    dispose = t.dispose
    const out = await dispatch(t.core.handlers, 'labs.create', { name: '  testbed-1 ' })
    expect(out).toMatchObject({ ok: true, result: { name: 'testbed-1', kind: 'real', description: '' } })
  })

  it('turns a core error into {code, message, detail}', async () => {
    const t = tempCore()
    dispose = t.dispose
    await dispatch(t.core.handlers, 'labs.create', { name: 'twice' })
    const out = await dispatch(t.core.handlers, 'labs.create', { name: 'twice' })
    expect(out).toMatchObject({ ok: false, error: { code: 'lab_exists', message: expect.stringContaining('twice') } })
  })
})
