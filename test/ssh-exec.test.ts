import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MigLabError } from '../src/shared/errors'
import { and, cmd, pipeline, redirect, seq, withEnv } from '../src/main/remote/command'
import { quote } from '../src/main/remote/quote'
import { exec, execOk } from '../src/main/ssh/exec'
import { openUnixSocket } from '../src/main/ssh/forward'
import { openShell } from '../src/main/ssh/shell'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { testPool, type TestPool } from './fixtures/ssh-pool'

describe('remote command builder (no server)', () => {
  it('quotes with single quotes and refuses NUL', () => {
    expect(quote("it's")).toBe(`'it'\\''s'`)
    expect(quote('')).toBe("''")
    expect(quote('plain/path-1.2')).toBe('plain/path-1.2')
    expect(quote('A=b')).toBe("'A=b'")
    expect(() => quote('a\0b')).toThrow(MigLabError)
    expect(() => cmd('printf', 'a\0b')).toThrow(/NUL/)
  })
  it('validates environment names', () => {
    expect(() => withEnv({ 'X; rm -rf /': 'v' }, cmd('true'))).toThrow(/not a valid environment variable/)
    expect(withEnv({ A_1: 'x y' }, cmd('env')).text).toContain("A_1='x y'")
  })
})

const skip = sshdUnavailable()
if (skip) console.warn(`SKIP ssh-exec: ${skip}`)

describe.skipIf(skip !== null)('exec over a real sshd', () => {
  let sshd: Sshd
  let t: TestPool
  const canary = `/tmp/miglab-canary-${process.pid}`
  beforeAll(async () => {
    sshd = await startSshd()
    t = testPool(sshd, { pool: { reconnect: { firstMs: 100, maxMs: 1000, tries: 20 } } })
  })
  afterAll(async () => {
    await t?.pool.close()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
  })

  const hostile = [
    "it's", '"double"', 'a;b', `; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `a\nb\ntouch ${canary}`,
    '*', '/*', '~', '~root', '$HOME', '${PATH}', '\\', '\\\\n', '-n', '--help', '-e \\x41', 'ünïcødé ñ 中文', '🚀💥 emoji',
    '\t tabs and  spaces ', "'", "''", '!', '!!', '#comment', '&& true', '| cat', '> /tmp/x', '<', '%s %d', '\r\n',
    'x'.repeat(100_000), `${"'$(touch " + canary + ")'"}`.repeat(500),
  ]

  it('passes every hostile argument byte for byte, and nothing is injected', async () => {
    // One printf per long argument; the short ones share one printf (its format repeats per argument,
    // NUL-separated since no argument can contain NUL) because each exec starts a login shell.
    const long = hostile.filter((a) => a.length > 1000)
    const short = hostile.filter((a) => a.length <= 1000)
    for (const arg of long) expect((await execOk(t.pool, 'root', cmd('printf', '%s', arg))).stdout === arg).toBe(true)
    const r = await execOk(t.pool, 'root', cmd('printf', '%s\\0', ...short))
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(short)
    // Composed forms too: pipelines, sequences, env values.
    const all = hostile.slice(0, -2).join('|')
    expect((await execOk(t.pool, 'root', pipeline(cmd('printf', '%s', all), cmd('cat')))).stdout).toBe(all)
    expect((await execOk(t.pool, 'root', withEnv({ V: all }, cmd('printenv', 'V')))).stdout).toBe(`${all}\n`)
    expect((await execOk(t.pool, 'root', and(cmd('true'), seq(cmd('printf', '%s', 'a;b'), cmd('printf', '%s', '$(x)'))))).stdout).toBe('a;b$(x)')
    expect(existsSync(canary)).toBe(false)
  })

  it('streams output and reports non-zero exits as results; execOk throws remote_failed with the stderr tail', async () => {
    const chunks: string[] = []
    const r = await exec(t.pool, 'root', seq(cmd('echo', 'out'), redirect(cmd('echo', 'err'), { stdout: '/dev/stderr' }), cmd('sh', '-c', 'exit 3')), {
      onStdout: (c) => chunks.push(c.toString()),
    })
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' })
    expect(chunks.join('')).toBe('out\n')
    const e = await execOk(t.pool, 'root', cmd('ls', '/nonexistent-miglab')).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(MigLabError)
    expect((e as MigLabError).code).toBe('remote_failed')
    expect((e as MigLabError).detail?.command).toBe('ls /nonexistent-miglab')
    expect((e as MigLabError).detail?.stderrTail).toMatch(/No such file/)
    expect((await execOk(t.pool, 'root', cmd('cat'), { stdin: 'from stdin' })).stdout).toBe('from stdin')
  })

  // Anchored, so pgrep does not find the shell that runs pgrep (its command line holds the pattern too).
  const sleeping = async (marker: string): Promise<string> => (await exec(t.pool, 'root', cmd('pgrep', '-f', `^sleep ${marker}$`))).stdout.trim()

  it('AbortSignal kills the remote process', async () => {
    const marker = `600.${process.pid}1`
    const ac = new AbortController()
    const running = exec(t.pool, 'root', cmd('sleep', marker), { signal: ac.signal })
    await new Promise((r) => setTimeout(r, 500))
    expect(await sleeping(marker)).not.toBe('')
    ac.abort()
    await expect(running).rejects.toMatchObject({ code: 'cancelled' })
    expect(await sleeping(marker)).toBe('')
  })

  it('a timeout kills the remote process', async () => {
    const marker = `600.${process.pid}2`
    const started = Date.now()
    await expect(exec(t.pool, 'root', cmd('sleep', marker), { timeoutMs: 700 })).rejects.toMatchObject({ code: 'remote_timeout' })
    expect(Date.now() - started).toBeLessThan(15_000) // generous: a loaded 2-core machine
    expect(await sleeping(marker)).toBe('')
  })

  // More than the pool's 8 session slots, so some wait their turn. Each exec starts a login shell.
  it('runs many channels on one connection', { timeout: 90_000 }, async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => execOk(t.pool, 'root', cmd('echo', i))))
    expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
  })

  // A login shell that does nothing first (/bin/sh, no rc file) ends `exit 3` at once: sshd then sends
  // the exec reply, exit-status and close in one burst, before any listener could be attached.
  it.skipIf(!existsSync('/usr/sbin/useradd'))('a command that ends at once still reports its exit status, on a busy event loop (100 in a row)', async () => {
    const lean = `mlexec${process.pid % 100000}`
    execFileSync('useradd', ['-M', '-d', '/', '-s', '/bin/sh', lean])
    try {
      execFileSync('usermod', ['-p', '*', lean])
      t.targets.set(lean, { host: sshd.host, port: sshd.port, user: lean, auth: { kind: 'key', keyPath: sshd.clientKey } })
      // A busy event loop (as during a migration: probe, SQLite, QMP) reads those packets together.
      const busy = setInterval(() => {
        const until = performance.now() + 4
        while (performance.now() < until);
      }, 1)
      const codes: (number | null)[] = []
      try {
        for (let i = 0; i < 100; i++) codes.push((await exec(t.pool, lean, cmd('sh', '-c', 'exit 3'))).code)
      } finally {
        clearInterval(busy)
      }
      expect(codes.filter((c) => c !== 3)).toEqual([])
    } finally {
      await t.pool.disconnect(lean)
      spawnSync('userdel', ['-f', lean], { stdio: 'ignore' })
    }
  })

  it('opens a pty shell and resizes it', async () => {
    const shell = await openShell(t.pool, 'root', { cols: 100, rows: 30 })
    let out = ''
    shell.stream.on('data', (d: Buffer) => (out += d.toString()))
    shell.stream.write('stty size; echo "$TERM"\n')
    await waitFor(() => /30 100/.test(out) && /xterm-256color/.test(out))
    shell.resize(120, 40)
    shell.stream.write('stty size\n')
    await waitFor(() => /40 120/.test(out))
    const closed = new Promise((r) => shell.stream.once('close', r))
    shell.close()
    await closed
  })

  it('forwards a unix socket on the node', async () => {
    const path = join(sshd.dir, 'echo.sock')
    const server: Server = createServer((s) => s.pipe(s)).listen(path)
    await new Promise((r) => server.once('listening', r))
    const stream = await openUnixSocket(t.pool, 'root', path)
    const reply = new Promise<string>((r) => stream.once('data', (d: Buffer) => r(d.toString())))
    stream.write('{"execute":"qmp_capabilities"}')
    expect(await reply).toBe('{"execute":"qmp_capabilities"}')
    stream.end()
    await new Promise((r) => server.close(r))
  })

  it('hops through a jump host (forwardOut over the pooled connection)', async () => {
    t.targets.set('via-jump', { host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey }, jump: 'root' })
    expect((await execOk(t.pool, 'via-jump', cmd('echo', 'hopped'))).stdout).toBe('hopped\n')
    t.targets.set('loop', { host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'agent' }, jump: 'loop' })
    await expect(t.pool.connect('loop')).rejects.toMatchObject({ code: 'jump_cycle' })
  })

  it('reconnects after sshd restarts; the next exec waits for it', async () => {
    expect((await execOk(t.pool, 'root', cmd('echo', 'before'))).stdout).toBe('before\n')
    await sshd.stop()
    await new Promise((r) => setTimeout(r, 300))
    const pending = execOk(t.pool, 'root', cmd('echo', 'after'))
    await new Promise((r) => setTimeout(r, 700))
    await sshd.start()
    expect((await pending).stdout).toBe('after\n')
    expect(t.debug.get('root')?.some((m) => m.includes('reconnecting'))).toBe(true)
  })
})

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 20))
  }
}
