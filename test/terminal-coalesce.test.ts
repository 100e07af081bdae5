import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { EventBus } from '../src/main/events'
import { COALESCE_BYTES, HIGH_WATER, TerminalManager } from '../src/main/terminals/manager'
import type { ApiEvent } from '../src/shared/events'

/** A terminal on an in-memory stream: what the "remote" writes is what the shell reads. */
async function fakeTerminal() {
  const bus = new EventBus()
  const events: ApiEvent[] = []
  bus.subscribe((e) => events.push(e))
  const stream = new PassThrough()
  const terminals = new TerminalManager(bus, async () => ({ shell: { stream, resize: () => undefined, close: () => stream.destroy() }, title: 't' }))
  const { id } = await terminals.open(1, 80, 24, 'tab-1')
  const data = () => events.filter((e): e is Extract<ApiEvent, { type: 'terminal.data' }> => e.type === 'terminal.data')
  return { terminals, stream, events, data, id }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('terminal output coalescing', () => {
  it('sends the chunks read in one turn as one event, byte for byte and in order', async () => {
    const { stream, data } = await fakeTerminal()
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(4095, i))
    for (const c of chunks) stream.write(c)
    await tick()
    await tick()
    expect(data()).toHaveLength(1)
    expect(Buffer.from(data()[0].data)).toEqual(Buffer.concat(chunks))
  })

  it('caps an event at COALESCE_BYTES, and sends what is pending before the exit', async () => {
    const { stream, events, data, id } = await fakeTerminal()
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(4096, i))
    for (const c of chunks) stream.write(c)
    stream.end(Buffer.from('bye'))
    await expect.poll(() => events.some((e) => e.type === 'terminal.exit')).toBe(true)
    expect(data().every((e) => e.data.length <= COALESCE_BYTES + 4096)).toBe(true)
    expect(data().length).toBeLessThan(10)
    expect(Buffer.concat(data().map((e) => Buffer.from(e.data)))).toEqual(Buffer.concat([...chunks, Buffer.from('bye')]))
    expect(events.at(-1)).toEqual({ type: 'terminal.exit', id, reason: expect.any(String) })
  })

  it('still pauses the stream past HIGH_WATER unacknowledged bytes and resumes on the ack', async () => {
    const { terminals, stream, data, id } = await fakeTerminal()
    const big = Buffer.alloc(HIGH_WATER + 65536, 1)
    stream.write(big)
    await tick()
    expect(stream.isPaused()).toBe(true)
    terminals.ack(id, big.length, 'tab-1')
    expect(stream.isPaused()).toBe(false)
    expect(data().reduce((a, e) => a + e.data.length, 0)).toBe(big.length)
  })
})
