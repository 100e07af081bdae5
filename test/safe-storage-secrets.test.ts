import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SafeStorageSecretStore } from '../src/main/doors/safe-storage-secrets'
import type { SafeStorageLike } from '../src/main/doors/electron-types'
import { tempDir } from './helpers'

// MOCK: Electron's safeStorage (the OS keychain) cannot run here. This stand-in "encrypts" by
// reversing and tagging the bytes — enough to prove what the store writes and reads back.
const keychain = (available = true): SafeStorageLike => ({
  isEncryptionAvailable: () => available,
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
})
