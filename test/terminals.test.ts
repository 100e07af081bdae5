import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventBus } from '../src/main/events'
import { openShell } from '../src/main/ssh/shell'
import { HIGH_WATER, TerminalManager } from '../src/main/terminals/manager'
import type { ApiEvent } from '../src/shared/events'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { testPool, type TestPool } from './fixtures/ssh-pool'

const skip = sshdUnavailable()
if (skip) console.warn(`SKIP terminals: ${skip}`)

describe.skipIf(skip !== null)('terminals over a real sshd', () => {
  let sshd: Sshd
  let t: TestPool
  let bus: EventBus
  let terminals: TerminalManager
  const received = new Map<string, Buffer[]>()
  const exits: string[] = []
  const output = (id: string) => Buffer.concat(received.get(id) ?? [])

  beforeAll(async () => {
    sshd = await startSshd()
    t = testPool(sshd)
    bus = new EventBus()
    bus.subscribe((e: ApiEvent) => {
      if (e.type === 'terminal.data') received.set(e.id, [...(received.get(e.id) ?? []), Buffer.from(e.data)])
      if (e.type === 'terminal.exit') exits.push(e.id)
    })
    terminals = new TerminalManager(bus, async (_nodeId, size) => ({ shell: await openShell(t.pool, 'root', size), title: 'root' }))
  })
  afterAll(async () => {
    terminals?.closeAll()
    await t?.pool.close()
    await sshd?.stop()
    removeSshdDir(sshd)
  })

  it('runs what is typed and shows its output', async () => {
    const { id } = await terminals.open(1, 80, 24, 'tab-1')
    terminals.input(id, 'echo hi-$((40+2))\n', 'tab-1')
    await expect.poll(() => output(id).toString(), { timeout: 30_000 }).toContain('hi-42')
    terminals.close(id, 'tab-1')
  })

  it('passes the size to the remote pty, and resizes it', async () => {
    const { id } = await terminals.open(1, 91, 33, 'tab-1')
    terminals.input(id, 'stty size\n', 'tab-1')
    await expect.poll(() => output(id).toString(), { timeout: 30_000 }).toContain('33 91')
    terminals.resize(id, 120, 40, 'tab-1')
    terminals.input(id, 'stty size\n', 'tab-1')
    await expect.poll(() => output(id).toString(), { timeout: 30_000 }).toContain('40 120')
    terminals.close(id, 'tab-1')
  })

  it('carries multi-byte UTF-8 byte for byte', async () => {
    const { id } = await terminals.open(1, 80, 24, 'tab-1')
    terminals.input(id, "printf 'caf\\303\\251 \\360\\237\\232\\200 \\346\\274\\242\\n'\n", 'tab-1')
    await expect.poll(() => output(id).toString('utf8'), { timeout: 30_000 }).toContain('café 🚀 漢')
    terminals.close(id, 'tab-1')
  })

  it('pauses the stream while the renderer has not acknowledged, and loses nothing', async () => {
    const total = 4 * HIGH_WATER
    const { id } = await terminals.open(1, 80, 24, 'tab-1')
    terminals.input(id, `stty -echo; head -c ${total} /dev/zero | tr '\\0' x; echo; echo END-OF-$((1+1))-FLOOD\n`, 'tab-1')
    // Without acks the SSH stream is paused: what arrived stops growing near the high-water mark.
    let stalled = -1
    await expect
      .poll(
        async () => {
          const before = output(id).length
          await new Promise((r) => setTimeout(r, 700))
          stalled = output(id).length
          return stalled > HIGH_WATER && stalled === before
        },
        { timeout: 20_000, interval: 0 },
      )
      .toBe(true)
    expect(stalled).toBeLessThan(total / 2)
    // Acknowledge as a renderer would, until everything arrived.
    let acked = 0
    await expect
      .poll(
        () => {
          const now = output(id).length
          terminals.ack(id, now - acked, 'tab-1')
          acked = now
          return output(id).toString('latin1').includes('END-OF-2-FLOOD')
        },
        { timeout: 30_000, interval: 50 },
      )
      .toBe(true)
    // The flood is the one long run of x (the echoed command line holds a single x).
    const longestRun = Math.max(...(output(id).toString('latin1').match(/x+/g) ?? []).map((run) => run.length))
    expect(longestRun).toBe(total)
    terminals.close(id, 'tab-1')
  })

  it('reports the end of the shell', async () => {
    const { id } = await terminals.open(1, 80, 24, 'tab-1')
    terminals.input(id, 'exit\n', 'tab-1')
    await expect.poll(() => exits, { timeout: 30_000 }).toContain(id)
    expect(() => terminals.input(id, 'ls\n', 'tab-1')).toThrow(/closed/)
  })
})
