import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { keyringOf, SafeStorageSecretStore } from '../src/main/doors/safe-storage-secrets'
import { createCore } from '../src/main/core'
import type { SafeStorageLike } from '../src/main/doors/electron-types'
import { tempDir } from './helpers'

// MOCK: Electron's safeStorage (the OS keychain) cannot run here. This stand-in "encrypts" by
// reversing and tagging the bytes — enough to prove what the store writes and reads back.
const keychain = (available = true, backend = 'gnome_libsecret'): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
  getSelectedStorageBackend: () => backend,
  encryptString: (plain) => Buffer.concat([Buffer.from('sealed:'), Buffer.from(plain).reverse()]),
  decryptString: (sealed) => Buffer.from(sealed.subarray(7)).reverse().toString(),
})

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
const file = () => {
  const d = tempDir()
  dirs.push(d)
  return join(d, 'secrets.sealed')
}

describe('desktop secret store (safeStorage mocked)', () => {
  it('keeps secrets across a restart, sealed — the file never holds the plaintext', () => {
    const path = file()
    new SafeStorageSecretStore(keychain(), path).set('7', 'password', 'hunter2-Ümlaut')
    expect(readFileSync(path, 'utf8')).not.toContain('hunter2')
    const restarted = new SafeStorageSecretStore(keychain(), path)
    expect(restarted.get('7', 'password')).toBe('hunter2-Ümlaut')
    expect(restarted.get('7', 'passphrase')).toBeUndefined()
  })

  it('forgets every secret of a removed node', () => {
    const path = file()
    const store = new SafeStorageSecretStore(keychain(), path)
    store.set('7', 'password', 'a')
    store.set('7', 'passphrase', 'b')
    store.set('8', 'password', 'c')
    store.delete('7')
    const restarted = new SafeStorageSecretStore(keychain(), path)
    expect([restarted.get('7', 'password'), restarted.get('7', 'passphrase'), restarted.get('8', 'password')]).toEqual([undefined, undefined, 'c'])
  })

  it('without OS encryption, secrets stay in memory and nothing is written', () => {
    const path = file()
    const store = new SafeStorageSecretStore(keychain(false), path)
    store.set('7', 'password', 'hunter2')
    expect(store.get('7', 'password')).toBe('hunter2')
    expect(existsSync(path)).toBe(false)
  })

  it('Linux basic_text (no keyring): memory only — nothing written, an old sealed file not read, and it says so', () => {
    const path = file()
    // A file an earlier run sealed: with basic_text in force it is not trusted.
    new SafeStorageSecretStore(keychain(), path).set('7', 'password', 'old')
    const store = new SafeStorageSecretStore(keychain(true, 'basic_text'), path, 'linux')
    const before = readFileSync(path, 'utf8')
    store.set('8', 'password', 'hunter2')
    expect(store.get('8', 'password')).toBe('hunter2')
    expect(store.get('7', 'password')).toBeUndefined()
    expect(readFileSync(path, 'utf8')).toBe(before)
    expect(store.describe()).toEqual({ kind: 'memory', note: expect.stringMatching(/memory only for this session: no OS keyring/) })
    // Removing a node still removes what an earlier run sealed for it.
    store.delete('7')
    expect(readFileSync(path, 'utf8')).not.toContain('7/password')
  })

  it('tells real keyrings from basic_text and unknown; other platforms use theirs', () => {
    expect(keyringOf(keychain(true, 'basic_text'), 'linux').ok).toBe(false)
    expect(keyringOf(keychain(true, 'unknown'), 'linux').ok).toBe(false)
    expect(keyringOf(keychain(false, 'gnome_libsecret'), 'linux').ok).toBe(false)
    expect(keyringOf(keychain(true, 'gnome_libsecret'), 'linux')).toEqual({ ok: true, backend: 'gnome_libsecret' })
    expect(keyringOf(keychain(true, 'kwallet5'), 'linux')).toEqual({ ok: true, backend: 'kwallet5' })
    expect(keyringOf(keychain(true, 'basic_text'), 'darwin')).toEqual({ ok: true, backend: 'Keychain' })
    const path = file()
    const sealed = new SafeStorageSecretStore(keychain(true, 'kwallet5'), path, 'linux')
    sealed.set('1', 'password', 'x')
    expect(existsSync(path)).toBe(true)
    expect(sealed.describe().kind).toBe('keyring')
  })

  it('app.info tells the renderer which kind of store holds the secrets', async () => {
    const dataDir = tempDir()
    dirs.push(dataDir)
    const memory = createCore({ dataDir, door: 'desktop', secrets: new SafeStorageSecretStore(keychain(true, 'basic_text'), join(dataDir, 's'), 'linux') })
    expect((await memory.handlers['app.info']({})).secrets).toMatchObject({ kind: 'memory', note: expect.stringMatching(/no OS keyring/) })
    await memory.close()
    const browser = createCore({ dataDir, door: 'browser' })
    expect((await browser.handlers['app.info']({})).secrets.kind).toBe('memory')
    await browser.close()
    const keyring = createCore({ dataDir, door: 'desktop', secrets: new SafeStorageSecretStore(keychain(), join(dataDir, 's'), 'linux') })
    expect((await keyring.handlers['app.info']({})).secrets.kind).toBe('keyring')
    await keyring.close()
  })
})
