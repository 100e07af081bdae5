import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MigLabError } from '../src/shared/errors'
import { cmd } from '../src/main/remote/command'
import { execOk } from '../src/main/ssh/exec'
import { askThroughError } from '../src/main/ssh/host-trust'
import { lookupKnownHosts } from '../src/main/ssh/known-hosts'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { testPool, type TestPool } from './fixtures/ssh-pool'

const blob = (b: string): Buffer => Buffer.from(b, 'base64')

describe('known_hosts matching (no server)', () => {
  const key = Buffer.from('key-one')
  const other = Buffer.from('key-two')
  const k = key.toString('base64')
  it('matches plain, bracketed, wildcard and negated patterns', () => {
    expect(lookupKnownHosts(`node1,10.0.0.1 ssh-ed25519 ${k}`, '10.0.0.1', 22, key).kind).toBe('match')
    expect(lookupKnownHosts(`[10.0.0.1]:2222 ssh-ed25519 ${k}`, '10.0.0.1', 22, key).kind).toBe('none')
    expect(lookupKnownHosts(`[10.0.0.1]:2222 ssh-ed25519 ${k}`, '10.0.0.1', 2222, key).kind).toBe('match')
    expect(lookupKnownHosts(`*.lab ssh-ed25519 ${k}`, 'a.lab', 22, key).kind).toBe('match')
    expect(lookupKnownHosts(`*.lab,!b.lab ssh-ed25519 ${k}`, 'b.lab', 22, key).kind).toBe('none')
    expect(lookupKnownHosts(`a.lab ssh-ed25519 ${other.toString('base64')}`, 'a.lab', 22, key)).toEqual({ kind: 'mismatch', keys: [other] })
    expect(lookupKnownHosts(`@revoked * ssh-ed25519 ${k}\na.lab ssh-ed25519 ${k}`, 'a.lab', 22, key).kind).toBe('revoked')
    expect(lookupKnownHosts(`@cert-authority * ssh-ed25519 ${k}`, 'a.lab', 22, key).kind).toBe('none')
    expect(blob(k).equals(key)).toBe(true)
  })
})

const skip = sshdUnavailable()
if (skip) console.warn(`SKIP ssh-hostkeys: ${skip}`)

describe.skipIf(skip !== null)('host keys against a real sshd', () => {
  let sshd: Sshd
  const pools: TestPool[] = []
  const make = (...a: Parameters<typeof testPool>[1][]): TestPool => {
    const p = testPool(sshd, a[0])
    pools.push(p)
    return p
  }
  beforeAll(async () => {
    sshd = await startSshd()
  })
  afterAll(async () => {
    for (const p of pools) await p.pool.close()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
  })

  /** The server never saw an authentication request, and the client never sent one. */
  const expectNoAuth = (t: TestPool, logFrom: number): void => {
    const log = sshd.log(logFrom)
    expect(log).toMatch(/Connection from 127\.0\.0\.1/)
    expect(log).not.toMatch(/Accepted|Postponed|Failed|Invalid user|authenticating user/)
    expect((t.debug.get('root') ?? []).join('\n')).not.toMatch(/USERAUTH_REQUEST|SERVICE_REQUEST/)
  }

  /** How sshd ends the log of a connection that never authenticated. */
  const PREAUTH_END = /(Connection closed by|Disconnected from|Received disconnect from) .*\[preauth\]/
  /** Polls the sshd log until `re` shows up after `from` (sshd writes it a moment after the event). */
  const waitForLog = async (from: number, re: RegExp): Promise<void> => {
    for (let i = 0; i < 100 && !re.test(sshd.log(from)); i++) await new Promise((r) => setTimeout(r, 50))
    expect(sshd.log(from)).toMatch(re)
  }

  let first: TestPool
  it('unknown key: host_key_unknown with the ssh-keygen -lf fingerprint, nothing authenticated', async () => {
    first = make({ confirm: askThroughError })
    const from = sshd.logSize()
    const err = (await first.pool.connect('root').catch((e: unknown) => e)) as MigLabError
    expect(err).toBeInstanceOf(MigLabError)
    expect(err.code).toBe('host_key_unknown')
    expect(err.detail).toMatchObject({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.fingerprint() })
    expect(sshd.fingerprint()).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
    await waitForLog(from, PREAUTH_END) // sshd logged the whole refused session
    expectNoAuth(first, from)
  })

  it('trust exactly that fingerprint → connects', async () => {
    expect(() => first.trust.trust('127.0.0.1', sshd.port, 'SHA256:' + 'A'.repeat(43))).toThrow(/has not been shown/)
    first.trust.trust('127.0.0.1', sshd.port, sshd.fingerprint())
    const info = await first.pool.connect('root')
    expect(info.fingerprint).toBe(sshd.fingerprint())
    // Positive control for expectNoAuth: a real login shows up in both places it looks.
    expect(sshd.log()).toMatch(/Accepted publickey for root/)
    expect(first.debug.get('root')!.join('\n')).toMatch(/USERAUTH_REQUEST/)
  })

  it('a regenerated server key is refused as host_key_changed, before any authentication; replace → works', async () => {
    const oldFp = sshd.fingerprint()
    await sshd.stop()
    sshd.regenerateHostKey()
    const from = sshd.logSize()
    first.debug.set('root', [])
    await sshd.start()
    const newFp = sshd.fingerprint()
    expect(newFp).not.toBe(oldFp)
    // The pool's own reconnection stops at the changed key; an explicit connect reports it.
    const err = (await first.pool.connect('root').catch((e: unknown) => e)) as MigLabError
    expect(err.code).toBe('host_key_changed')
    expect(err.detail).toMatchObject({ oldFingerprint: oldFp, newFingerprint: newFp, host: '127.0.0.1', port: sshd.port })
    expect(String(err.detail?.hint)).toMatch(/replace/)
    await waitForLog(from, PREAUTH_END)
    expectNoAuth(first, from)
    first.trust.replace('127.0.0.1', sshd.port, newFp)
    expect((await execOk(first.pool, 'root', cmd('echo', 'ok'))).stdout).toBe('ok\n')
  })

  it('declining in the confirm step → host_key_rejected', async () => {
    const t = make({ confirm: async () => false })
    await expect(t.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_rejected' })
  })

  it('honours ~/.ssh/known_hosts, plain and hashed, and records the key', async () => {
    const pub = readFileSync(`${sshd.hostKey}.pub`, 'utf8').split(' ')
    const path = join(sshd.dir, 'known_hosts')
    const never = async (): Promise<boolean> => {
      throw new Error('must not ask: known_hosts has the key')
    }
    writeFileSync(path, `# comment\n[127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`)
    const plain = make({ confirm: never, knownHostsPath: path })
    expect((await plain.pool.connect('root')).fingerprint).toBe(sshd.fingerprint())
    expect(plain.repo.get('127.0.0.1', sshd.port)?.fingerprint).toBe(sshd.fingerprint())

    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' })
    expect(readFileSync(path, 'utf8')).toMatch(/^\|1\|/m)
    const hashed = make({ confirm: never, knownHostsPath: path })
    expect((await hashed.pool.connect('root')).fingerprint).toBe(sshd.fingerprint())

    writeFileSync(path, `[127.0.0.1]:${sshd.port} ${pub[0]} ${readFileSync(`${sshd.clientKey}.pub`, 'utf8').split(' ')[1]}\n`)
    const wrong = make({ confirm: never, knownHostsPath: path })
    await expect(wrong.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_changed', detail: { source: path } })
  })

  it('@revoked in known_hosts is checked first on every connection, even for a key already pinned', async () => {
    const pub = readFileSync(`${sshd.hostKey}.pub`, 'utf8').split(' ')
    const path = join(sshd.dir, 'known_hosts_revoked')
    writeFileSync(path, '')
    const t = make({ knownHostsPath: path })
    expect((await t.pool.connect('root')).fingerprint).toBe(sshd.fingerprint())
    expect(t.repo.get('127.0.0.1', sshd.port)?.fingerprint).toBe(sshd.fingerprint())
    await t.pool.disconnect('root')

    writeFileSync(path, `@revoked [127.0.0.1]:${sshd.port} ${pub[0]} ${pub[1]}\n`)
    const from = sshd.logSize()
    t.debug.set('root', [])
    const err = (await t.pool.connect('root').catch((e: unknown) => e)) as MigLabError
    expect(err).toBeInstanceOf(MigLabError)
    expect(err.code).toBe('host_key_revoked')
    expect(err.message).toMatch(/marked @revoked/)
    expect(err.detail).toMatchObject({ fingerprint: sshd.fingerprint(), source: path, hint: expect.stringMatching(/new host key/) })
    await waitForLog(from, PREAUTH_END)
    expectNoAuth(t, from)
    // Neither trust nor replace can pin a revoked key.
    expect(() => t.trust.replace('127.0.0.1', sshd.port, sshd.fingerprint())).toThrow(expect.objectContaining({ code: 'host_key_revoked' }))
    t.repo.forget('127.0.0.1', sshd.port)
    await expect(t.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_revoked' })
    expect(() => t.trust.trust('127.0.0.1', sshd.port, sshd.fingerprint())).toThrow(expect.objectContaining({ code: 'host_key_revoked' }))
    expect(t.repo.get('127.0.0.1', sshd.port)).toBeUndefined()
  })

  it('hostKeys.trust pins only from the unknown state: a key known_hosts contradicts is refused, replace is the way', async () => {
    const path = join(sshd.dir, 'known_hosts_other')
    const otherKey = readFileSync(`${sshd.clientKey}.pub`, 'utf8').split(' ')
    writeFileSync(path, `[127.0.0.1]:${sshd.port} ${otherKey[0]} ${otherKey[1]}\n`)
    const t = make({ confirm: askThroughError, knownHostsPath: path })
    await expect(t.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_changed', detail: { source: path } })
    const err = (() => {
      try {
        t.trust.trust('127.0.0.1', sshd.port, sshd.fingerprint())
      } catch (e) {
        return e as MigLabError
      }
    })()
    expect(err?.code).toBe('host_key_changed')
    expect(err?.message).toMatch(/lists another key/)
    expect(String(err?.detail?.hint)).toMatch(/replace the trusted key/)
    expect(t.repo.get('127.0.0.1', sshd.port)).toBeUndefined()
    await expect(t.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_changed' })

    // Pinned in MigLab to another key: trust refuses too.
    const pinned = make({ confirm: askThroughError, knownHostsPath: null })
    pinned.repo.trust({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:' + 'B'.repeat(43), key: otherKey[1] })
    await expect(pinned.pool.connect('root')).rejects.toMatchObject({ code: 'host_key_changed' })
    expect(() => pinned.trust.trust('127.0.0.1', sshd.port, sshd.fingerprint())).toThrow(expect.objectContaining({ code: 'host_key_changed' }))

    // The explicit, confirmed replace path works.
    t.trust.replace('127.0.0.1', sshd.port, sshd.fingerprint())
    writeFileSync(path, '')
    expect((await t.pool.connect('root')).fingerprint).toBe(sshd.fingerprint())
  })
})
