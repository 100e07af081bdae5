import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { SafeStorageSecretStore } from '../src/main/doors/safe-storage-secrets'
import type { SafeStorageLike } from '../src/main/doors/electron-types'
import { cmd } from '../src/main/remote/command'
import { execOk } from '../src/main/ssh/exec'
import { algorithmOf, fingerprintOf } from '../src/main/ssh/fingerprint'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { callerOf } from './helpers'
import { inputs } from '../src/shared/api'

// MOCK: Electron's safeStorage only (the OS keychain cannot run here); the sealed file is real.
const keychain: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (plain) => Buffer.concat([Buffer.from('sealed:'), Buffer.from(plain).reverse()]),
  decryptString: (sealed) => Buffer.from(sealed.subarray(7)).reverse().toString(),
}

const skip = sshdUnavailable()

describe.skipIf(skip !== null)(`removing or editing a node ends its connection and forgets its secrets${skip ? ` — SKIPPED: ${skip}` : ''}`, () => {
  let sshd: Sshd
  let core: Core
  let dataDir: string
  let sealedPath: string
  let labId: number
  const call = callerOf(() => core)

  beforeAll(async () => {
    sshd = await startSshd()
    dataDir = mkdtempSync(join(tmpdir(), 'miglab-lifecycle-'))
    sealedPath = join(dataDir, 'secrets.sealed')
    core = createCore({ dataDir, door: 'desktop', secrets: new SafeStorageSecretStore(keychain, sealedPath) })
    const blob = Buffer.from(readFileSync(`${sshd.hostKey}.pub`, 'utf8').split(' ')[1], 'base64')
    core.services.hostKeys.trust({ host: sshd.host, port: sshd.port, algorithm: algorithmOf(blob), fingerprint: fingerprintOf(blob), key: blob.toString('base64') })
    labId = (await call('labs.create', { name: 'lifecycle' })).id
  })
  afterAll(async () => {
    await core?.close()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  /** The client port sshd logged for the login that happened after log offset `from`. */
  const loginPort = (from: number): string => {
    const m = /Accepted publickey for root from 127\.0\.0\.1 port (\d+)/.exec(sshd.log(from))
    expect(m, 'the login is in the sshd log').not.toBeNull()
    return m![1]
  }
  /** Waits until sshd logs that the session on client port `port` ended. */
  const closedOnServer = async (port: string): Promise<void> => {
    const ended = new RegExp(`(Disconnected from user root|Connection closed by|Received disconnect from) 127\\.0\\.0\\.1 port ${port}\\b`)
    for (let i = 0; i < 100 && !ended.test(sshd.log()); i++) await new Promise((r) => setTimeout(r, 50))
    expect(sshd.log()).toMatch(ended)
  }
  const sealed = (): Record<string, string> => (existsSync(sealedPath) ? (JSON.parse(readFileSync(sealedPath, 'utf8')) as Record<string, string>) : {})

  it('remove → the old host sees the connection closed, the pool and both secret stores forget the id, a new node gets a new id', async () => {
    const auth = { kind: 'key', keyPath: sshd.clientKey, passphrase: 'not-needed-but-stored' }
    const node = await call('nodes.add', { labId, name: 'old', host: sshd.host, port: sshd.port, user: 'root', auth })
    const key = String(node.id)
    const from = sshd.logSize()
    expect((await execOk(core.services.ssh, key, cmd('echo', 'hi'))).stdout).toBe('hi\n')
    const port = loginPort(from)
    expect(core.services.ssh.has(key)).toBe(true)
    expect(Object.keys(sealed())).toContain(`${key}/passphrase`)

    expect((await call('nodes.remove', { nodeId: node.id })).removed).toBe(true)
    expect(core.services.ssh.has(key)).toBe(false)
    await closedOnServer(port)
    expect(core.services.secrets.get(key, 'passphrase')).toBeUndefined()
    expect(Object.keys(sealed()).filter((k) => k.startsWith(`${key}/`))).toEqual([])
    // A restarted desktop store does not bring it back either.
    expect(new SafeStorageSecretStore(keychain, sealedPath).get(key, 'passphrase')).toBeUndefined()

    const next = await call('nodes.add', { labId, name: 'new', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'agent' } })
    expect(next.id).toBeGreaterThan(node.id)
    expect(core.services.ssh.has(key)).toBe(false)
    await expect(core.services.ssh.connect(key)).rejects.toMatchObject({ code: 'node_not_found' })
    await call('nodes.remove', { nodeId: next.id })
  })

  it('editing the host, port, user or key closes the connection and drops a secret entered for the old settings', async () => {
    const node = await call('nodes.add', { labId, name: 'edit', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey, passphrase: 'pp' } })
    const key = String(node.id)
    let from = sshd.logSize()
    await execOk(core.services.ssh, key, cmd('true'))
    let port = loginPort(from)

    // Renaming keeps the account: the secret stays, the connection is redialled anyway.
    await call('nodes.update', { nodeId: node.id, name: 'edited' })
    expect(core.services.ssh.has(key)).toBe(false)
    await closedOnServer(port)
    expect(core.services.secrets.get(key, 'passphrase')).toBe('pp')

    from = sshd.logSize()
    await execOk(core.services.ssh, key, cmd('true'))
    port = loginPort(from)
    // Another host (here the same sshd by another name): the passphrase must not follow.
    await call('nodes.update', { nodeId: node.id, host: 'localhost' })
    expect(core.services.ssh.has(key)).toBe(false)
    await closedOnServer(port)
    expect(core.services.secrets.get(key, 'passphrase')).toBeUndefined()
    expect(Object.keys(sealed()).filter((k) => k.startsWith(`${key}/`))).toEqual([])
    await call('nodes.remove', { nodeId: node.id })
  })

  it('secrets of node 1 are not those of node 10', () => {
    const store = new SafeStorageSecretStore(keychain, join(dataDir, 'other.sealed'))
    store.set('1', 'password', 'one')
    store.set('10', 'password', 'ten')
    store.delete('1')
    expect([store.get('1', 'password'), store.get('10', 'password')]).toEqual([undefined, 'ten'])
  })
})

describe('secrets of nodes that no longer exist', () => {
  it('at start, secrets of nodes the database does not have are deleted from the sealed file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miglab-orphans-'))
    try {
      const file = join(dir, 'secrets.sealed')
      const first = createCore({ dataDir: dir, door: 'desktop', secrets: new SafeStorageSecretStore(keychain, file) })
      const lab = await first.handlers['labs.create']({ name: 'o', description: '', hypervisor: 'qemu' })
      const kept = await first.handlers['nodes.add'](inputs['nodes.add'].parse({ labId: lab.id, name: 'k', host: 'h', user: 'u', auth: { kind: 'password', password: 'kept' } }))
      await first.close()
      // A secret left for node 99, which the database never had (or lost).
      new SafeStorageSecretStore(keychain, file).set('99', 'password', 'orphan')
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toContain('99/password')
      const second = createCore({ dataDir: dir, door: 'desktop', secrets: new SafeStorageSecretStore(keychain, file) })
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toEqual([`${kept.id}/password`])
      expect(second.services.secrets.get(String(kept.id), 'password')).toBe('kept')
      await second.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
