import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveDataDir } from '../src/main/paths'
import { cmd } from '../src/main/remote/command'
import { execOk } from '../src/main/ssh/exec'
import { descendants, removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { testPool, type TestPool } from './fixtures/ssh-pool'

describe('data directory order (README "Where data lives")', () => {
  it('MIGLAB_DATA_DIR, then Electron userData, then $XDG_DATA_HOME/miglab, then ~/.local/share/miglab', () => {
    expect(resolveDataDir('/electron/userData', { MIGLAB_DATA_DIR: '/env/dir', XDG_DATA_HOME: '/xdg' })).toBe('/env/dir')
    expect(resolveDataDir('/electron/userData', { XDG_DATA_HOME: '/xdg' })).toBe('/electron/userData')
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' })).toBe('/xdg/miglab')
    expect(resolveDataDir(undefined, {})).toBe(join(homedir(), '.local', 'share', 'miglab'))
    // An empty variable counts as unset, as in a shell.
    expect(resolveDataDir(undefined, { MIGLAB_DATA_DIR: '', XDG_DATA_HOME: '' })).toBe(join(homedir(), '.local', 'share', 'miglab'))
  })
})

const skip = sshdUnavailable()

describe.skipIf(skip !== null)(`key passphrases, ssh-agent and dead links against a real sshd${skip ? ` — SKIPPED: ${skip}` : ''}`, () => {
  let sshd: Sshd
  const pools: TestPool[] = []
  const make = (opts?: Parameters<typeof testPool>[1]): TestPool => {
    const p = testPool(sshd, opts)
    pools.push(p)
    return p
  }
  let lockedKey: string
  const passphrase = `pass phrase 'with' "quotes" $HOME ü`
  beforeAll(async () => {
    sshd = await startSshd()
    lockedKey = join(sshd.dir, 'locked_ed25519')
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'locked', '-f', lockedKey])
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${lockedKey}.pub`))
  })
  afterAll(async () => {
    for (const p of pools) await p.pool.close()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
  })

  it('a passphrase-protected key file logs in with its passphrase; without it or with a wrong one: key_unusable', async () => {
    expect(readFileSync(lockedKey, 'utf8')).toMatch(/BEGIN OPENSSH PRIVATE KEY/)
    const t = make()
    t.targets.set('locked', { host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: lockedKey } })
    await expect(t.pool.connect('locked')).rejects.toMatchObject({ code: 'key_unusable', detail: { hint: expect.stringMatching(/enter its passphrase/) } })
    t.secrets.set('locked', 'passphrase', 'wrong')
    await expect(t.pool.connect('locked')).rejects.toMatchObject({ code: 'key_unusable', message: expect.stringMatching(/with that passphrase/) })
    t.secrets.set('locked', 'passphrase', passphrase)
    const from = sshd.logSize()
    expect((await execOk(t.pool, 'locked', cmd('echo', 'unlocked'))).stdout).toBe('unlocked\n')
    const fp = execFileSync('ssh-keygen', ['-lf', `${lockedKey}.pub`], { encoding: 'utf8' }).split(' ')[1]
    expect(sshd.log(from)).toContain(`Accepted publickey for root from 127.0.0.1`)
    expect(sshd.log(from)).toContain(fp)
  })

  it('ssh-agent login: a real agent holding the key (and no key file on the node settings)', async () => {
    const sock = join(sshd.dir, 'agent.sock')
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
    const saved = process.env.SSH_AUTH_SOCK
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50))
      execFileSync('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
      expect(execFileSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' })).toMatch(/ED25519/)
      const t = make()
      t.targets.set('agent', { host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'agent' } })
      delete process.env.SSH_AUTH_SOCK
      await expect(t.pool.connect('agent')).rejects.toMatchObject({ code: 'ssh_agent_missing' })
      process.env.SSH_AUTH_SOCK = sock
      const from = sshd.logSize()
      expect((await execOk(t.pool, 'agent', cmd('echo', 'via-agent'))).stdout).toBe('via-agent\n')
      const fp = execFileSync('ssh-keygen', ['-lf', `${sshd.clientKey}.pub`], { encoding: 'utf8' }).split(' ')[1]
      expect(sshd.log(from)).toMatch(new RegExp(`Accepted publickey for root from 127\\.0\\.0\\.1 port \\d+ ssh2: ED25519 ${fp.replace(/[+/]/g, '\\$&')}`))
      // An empty agent: the login fails as auth_failed.
      execFileSync('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' })
      const empty = make()
      empty.targets.set('agent', { host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'agent' } })
      await expect(empty.pool.connect('agent')).rejects.toMatchObject({ code: 'auth_failed' })
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK
      else process.env.SSH_AUTH_SOCK = saved
      agent.kill()
    }
  })

  it('keepalive: a link that goes silent (the session process frozen) is noticed within the keepalive window and redialled', async () => {
    const interval = 250
    const countMax = 2
    const t = make({ pool: { keepaliveIntervalMs: interval, keepaliveCountMax: countMax, reconnect: { firstMs: 50, maxMs: 500, tries: 10 } } })
    const masterPid = Number(readFileSync(join(sshd.dir, 'sshd.pid'), 'utf8'))
    const before = new Set(descendants(masterPid))
    const from = sshd.logSize()
    expect((await execOk(t.pool, 'root', cmd('echo', 'one'))).stdout).toBe('one\n')
    const session = descendants(masterPid).filter((p) => !before.has(p))
    expect(session.length).toBeGreaterThan(0)
    // Freeze the connection's sshd processes: the TCP link stays open but nothing answers, as
    // when a cable is pulled. Only keepalives can tell.
    for (const pid of session) process.kill(pid, 'SIGSTOP')
    const frozenAt = Date.now()
    try {
      const dropped = (): boolean => (t.debug.get('root') ?? []).some((m) => m.includes('connection dropped; reconnecting'))
      while (!dropped() && Date.now() - frozenAt < 10_000) await new Promise((r) => setTimeout(r, 20))
      const noticedAfter = Date.now() - frozenAt
      expect(dropped(), 'the pool noticed the dead link').toBe(true)
      // ssh2 gives up after countMax unanswered keepalives: (countMax + 1) intervals, plus slack.
      expect(noticedAfter).toBeLessThan(interval * (countMax + 2) + 1500)
      expect((await execOk(t.pool, 'root', cmd('echo', 'two'))).stdout).toBe('two\n')
      expect(sshd.log(from).match(/Accepted publickey for root/g)).toHaveLength(2)
    } finally {
      for (const pid of session) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
    }
  })
})
