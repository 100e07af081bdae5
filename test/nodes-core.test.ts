import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MigLabError } from '../src/shared/errors'
import { createCore, type Core } from '../src/main/core'
import { cmd, pipeline } from '../src/main/remote/command'
import { exec, execOk } from '../src/main/ssh/exec'
import { importSshConfig } from '../src/main/ssh/ssh-config-import'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { callerOf } from './helpers'
import { inputs } from '../src/shared/api'

describe('ssh-config import (no server)', () => {
  it('resolves hosts, expands ~, keeps ProxyJump, skips patterns and never runs Match exec', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miglab-sshcfg-'))
    const canary = join(dir, 'pwned')
    const path = join(dir, 'config')
    writeFileSync(
      path,
      [
        'Host *.internal !bad',
        '  User ops',
        'Host nodeA nodeB',
        '  HostName 198.18.0.10',
        '  Port 2222',
        '  IdentityFile ~/.ssh/id_lab',
        '  ProxyJump bastion',
        'Host bastion',
        '  HostName bastion.example.org',
        '  User jump',
        `Match exec "touch ${canary}"`,
        '  User evil',
        'Host *',
        '  User default',
        '',
      ].join('\n'),
    )
    expect(importSshConfig(path)).toEqual([
      { name: 'nodeA', host: '198.18.0.10', port: 2222, user: 'default', keyPath: join(homedir(), '.ssh/id_lab'), jumpHost: 'bastion' },
      { name: 'nodeB', host: '198.18.0.10', port: 2222, user: 'default', keyPath: join(homedir(), '.ssh/id_lab'), jumpHost: 'bastion' },
      { name: 'bastion', host: 'bastion.example.org', port: 22, user: 'jump' },
    ])
    expect(existsSync(canary)).toBe(false)
    expect(() => importSshConfig(join(dir, 'missing'))).toThrow(/Cannot read/)
    rmSync(dir, { recursive: true })
  })
})

const skip = sshdUnavailable()
const hasUseradd = existsSync('/usr/sbin/useradd')
const hasSudo = existsSync('/usr/bin/sudo')
if (skip) console.warn(`SKIP nodes-core: ${skip}`)

describe.skipIf(skip !== null)('nodes contract over a real sshd', () => {
  let sshd: Sshd
  let core: Core
  let dataDir: string
  const call = callerOf(() => core)
  const fail = async (p: Promise<unknown>): Promise<MigLabError> => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(e).toBeInstanceOf(MigLabError)
    return e as MigLabError
  }
  beforeAll(async () => {
    sshd = await startSshd()
    dataDir = mkdtempSync(join(tmpdir(), 'miglab-core-'))
    core = createCore({ dataDir, door: 'browser' })
  })
  afterAll(async () => {
    await core?.close()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  let labId: number
  let rootNode: number
  it('add → connect fails host_key_unknown → hostKeys.trust → connect → preflight', async () => {
    labId = (await call('labs.create', { name: 'ssh-test' })).id
    const node = await call('nodes.add', { labId, name: 'local', host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
    rootNode = node.id
    expect(node.auth).toEqual({ kind: 'key', keyPath: sshd.clientKey })

    const unknown = await fail(call('nodes.connect', { nodeId: node.id }))
    expect(unknown.code).toBe('host_key_unknown')
    expect(unknown.detail).toMatchObject({ host: '127.0.0.1', port: sshd.port, algorithm: 'ssh-ed25519', fingerprint: sshd.fingerprint() })

    const trusted = await call('hostKeys.trust', { host: '127.0.0.1', port: sshd.port, fingerprint: unknown.detail!.fingerprint })
    expect(trusted.fingerprint).toBe(sshd.fingerprint())
    const conn = await call('nodes.connect', { nodeId: node.id })
    expect(conn).toMatchObject({ nodeId: node.id, user: 'root', fingerprint: sshd.fingerprint() })

    const report = await call('nodes.preflight', { nodeId: node.id })
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]))
    console.log(report.checks.map((c) => `${c.status.padEnd(4)} ${c.label}: ${c.found}`).join('\n'))
    expect(Object.keys(byId)).toEqual(expect.arrayContaining(['os', 'cpu', 'kvm', 'memory', 'disk:/', 'disk:/var/lib', 'network', 'hypervisor', 'mpi', 'nfs', 'clock']))
    expect(report.facts.kernel).toBe(execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim())
    expect(report.facts.hostname).toBe(execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim())
    expect(report.facts.memTotalBytes).toBeGreaterThan(64 * 1024 ** 2)
    expect(report.facts.cpus).toBeGreaterThan(0)
    expect(report.facts.disks.find((d) => d.path === '/')?.freeBytes).toBeGreaterThan(0)
    expect(report.facts.tools.sh ?? null).toBeNull()
    expect(report.facts.tools['qemu-system-x86_64']).toBe(whichOrNull('qemu-system-x86_64'))
    // Same machine: the offset is tiny, and always within its own uncertainty plus scheduling noise.
    expect(Math.abs(report.facts.clock!.offsetMs)).toBeLessThan(report.facts.clock!.uncertaintyMs + 50)
    expect(byId.os.status).toBe('pass')
    const stored = core.services.nodes.get(node.id)!
    expect(stored.preflight?.checks).toEqual(report.checks)
    expect(stored.facts).toEqual(report.facts)
  })

  it.skipIf(!hasUseradd)(`password login: works, wrong password is auth_failed, and the password is nowhere on disk${hasUseradd ? '' : ' (SKIPPED: useradd is not available)'}`, async () => {
    const user = `mlpw${process.pid % 100000}`
    const password = `Pw-${Math.random().toString(36).slice(2)}-'"$;ü`
    execFileSync('useradd', ['-m', '-s', '/bin/sh', user])
    try {
      execFileSync('chpasswd', { input: `${user}:${password}\n` })
      const node = await call('nodes.add', { labId, name: 'pw', host: '127.0.0.1', port: sshd.port, user, auth: { kind: 'password', password } })
      expect(JSON.stringify(node)).not.toContain(password)
      expect((await call('nodes.connect', { nodeId: node.id })).user).toBe(user)
      expect((await execOk(core.services.ssh, String(node.id), cmd('id', '-un'))).stdout).toBe(`${user}\n`)
      // Through the contract's own logging path too: a job that logs around the node.
      const job = core.services.jobs.start('test', 'log check', {}, async (ctx2) => ctx2.log('info', `checked node ${node.name}`))
      await core.services.jobs.wait(job.id)

      await call('nodes.update', { nodeId: node.id, auth: { kind: 'password', password: 'wrong-password' } })
      expect((await fail(call('nodes.connect', { nodeId: node.id }))).code).toBe('auth_failed')

      const logs = core.services.db.prepare('SELECT message FROM logs').all() as { message: string }[]
      expect(logs.length).toBeGreaterThan(0)
      expect(logs.some((l) => l.message.includes(password))).toBe(false)
      core.services.db.pragma('wal_checkpoint(TRUNCATE)')
      for (const f of readdirSync(dataDir)) {
        const bytes = readFileSync(join(dataDir, f))
        expect(bytes.includes(Buffer.from(password)), f).toBe(false)
        expect(bytes.includes(Buffer.from('wrong-password')), f).toBe(false)
      }
      expect((await call('nodes.remove', { nodeId: node.id })).removed).toBe(true)
      expect(core.services.secrets.get(String(node.id), 'password')).toBeUndefined()
    } finally {
      execFileSync('userdel', ['-f', '-r', user], { stdio: 'ignore' }) // -f: even if a session is still open
    }
  })

  it.skipIf(!hasUseradd || !hasSudo)(
    `sudo with a node's password: given on stdin, never in arguments; cancelling kills the root process${hasUseradd && hasSudo ? '' : ' (SKIPPED: sudo or useradd is not installed)'}`,
    async () => {
      const user = `mlsu${process.pid % 100000}`
      const password = `Pw-${Math.random().toString(36).slice(2)}-'"$;ü`
      const sudoers = `/etc/sudoers.d/miglab-test-${user}`
      execFileSync('useradd', ['-m', '-s', '/bin/sh', user])
      try {
        execFileSync('chpasswd', { input: `${user}:${password}\n` })
        const node = await call('nodes.add', { labId, name: 'sudo', host: '127.0.0.1', port: sshd.port, user, auth: { kind: 'password', password } })
        // sudo -S gets the password on stdin: it works, and no process's arguments ever hold it.
        writeFileSync(sudoers, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 })
        const key = String(node.id)
        const asRoot = await execOk(core.services.ssh, key, pipeline(cmd('ps', '-eo', 'args'), cmd('cat')), { sudo: true })
        expect(asRoot.stdout).toMatch(/sudo -S -p/)
        expect(asRoot.stdout).not.toContain(password)
        expect((await execOk(core.services.ssh, key, cmd('id', '-u'), { sudo: true })).stdout).toBe('0\n')
        // Cancelling a root process started through sudo kills it too.
        const marker = `600.${process.pid}3`
        const ac = new AbortController()
        const running = exec(core.services.ssh, key, cmd('sleep', marker), { sudo: true, signal: ac.signal })
        await new Promise((r) => setTimeout(r, 1500))
        const pgrep = async (): Promise<string> => (await exec(core.services.ssh, String(rootNode), cmd('pgrep', '-f', `^sleep ${marker}$`))).stdout
        expect(await pgrep()).not.toBe('')
        ac.abort()
        await expect(running).rejects.toMatchObject({ code: 'cancelled' })
        expect(await pgrep()).toBe('')
        expect((await call('nodes.remove', { nodeId: node.id })).removed).toBe(true)
      } finally {
        rmSync(sudoers, { force: true })
        execFileSync('userdel', ['-f', '-r', user], { stdio: 'ignore' })
      }
    },
  )

  it('jump hosts are nodes of the same lab; a used jump host cannot be removed', async () => {
    const via = await call('nodes.add', { labId, name: 'via', host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey }, jumpHost: 'local' })
    expect((await execOk(core.services.ssh, String(via.id), cmd('echo', 'hop'))).stdout).toBe('hop\n')
    expect((await fail(call('nodes.remove', { nodeId: rootNode }))).code).toBe('node_in_use')
    expect((await fail(call('nodes.add', { labId, name: 'x', host: '127.0.0.1', port: 22, user: 'root', auth: { kind: 'agent' }, jumpHost: 'nope' }))).code).toBe('node_not_found')
    expect(() => inputs['nodes.add'].parse({ labId, name: 'x', host: '-oProxyCommand=x', user: 'root', auth: { kind: 'agent' } })).toThrow()
  })
})

function whichOrNull(tool: string): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}
