import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { withLabLock as withLock } from '../src/main/lab/lock'
import { tempDir } from './helpers'

const dir = tempDir()
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const CHILD = join(import.meta.dirname, 'fixtures/lab-lock-child.ts')

/** A real `node` process racing for the lock; `out` collects what it printed. */
function racer(path: string, goAt: number, holdMs: number): { child: ChildProcess; out: () => string; done: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(goAt), String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const done = new Promise<string>((resolve) => child.once('exit', () => resolve(out)))
  return { child, out: () => out, done }
}

const until = async (cond: () => boolean, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('demo-lab lock across real processes', () => {
  it('processes racing for the lock at the same instant: exactly one wins, every round', async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(dir, `race-${round}`, 'lock')
      const goAt = Date.now() + 4000 // every child is up and spinning by then
      // The winner holds long enough that a child that started late still finds it taken.
      const racers = [0, 1, 2].map(() => racer(path, goAt, 4000))
      const outs = await Promise.all(racers.map((r) => r.done))
      const won = outs.filter((o) => o.startsWith('won'))
      expect(won, `round ${round}: ${outs.join(' | ')}`).toHaveLength(1)
      for (const o of outs.filter((x) => !x.startsWith('won'))) expect(o).toMatch(/^busy demo_lab_busy/)
    }
  }, 90_000)

  it('a lock left by a dead process is taken over: a leftover pid file, and a holder killed with SIGKILL', async () => {
    const path = join(dir, 'stale', 'lock')
    const dead = spawnSync('true').pid!
    await withLock(join(dir, 'stale', 'warmup'), async () => {}) // creates the directory
    writeFileSync(path, `${dead}\n`)
    const first = racer(path, 0, 60_000)
    await until(() => first.out().includes('won'))
    expect(readFileSync(path, 'utf8').trim()).toBe(String(first.child.pid))
    // While it holds the lock, this process is refused, with the holder named.
    await expect(withLock(path, async () => 'no')).rejects.toMatchObject({ code: 'demo_lab_busy', detail: { pid: first.child.pid } })
    first.child.kill('SIGKILL')
    await first.done
    const next = racer(path, 0, 10)
    expect(await next.done).toMatch(/^won\nreleased/)
    expect(await withLock(path, async () => 'mine')).toBe('mine')
  }, 60_000)

  it('one process: a second job on the same lab is refused while the first holds it', async () => {
    const path = join(dir, 'same', 'lock')
    let second: Promise<unknown> | undefined
    await withLock(path, async () => {
      second = withLock(path, async () => 'no')
      await expect(second).rejects.toMatchObject({ code: 'demo_lab_busy', detail: { hint: expect.stringMatching(/running demo lab job/) } })
    })
    expect(await withLock(path, async () => 'free again')).toBe('free again')
  })
})
