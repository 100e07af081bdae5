import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { MemorySecretStore, type SecretKind, type SecretStore } from '../ssh/secrets'
import type { SafeStorageLike } from './electron-types'

/**
 * Desktop secrets: node passwords and passphrases encrypted with the OS keychain through Electron's
 * safeStorage, in their own file beside (never inside) the SQLite history, so they survive a
 * restart. Where the OS offers no encryption they stay in memory only — never written in plaintext.
 */
export class SafeStorageSecretStore implements SecretStore {
  private readonly memory = new MemorySecretStore()
  private readonly sealed: Record<string, string>

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly file: string,
  ) {
    this.sealed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
  }

  get(nodeKey: string, kind: SecretKind): string | undefined {
    const held = this.memory.get(nodeKey, kind)
    if (held !== undefined) return held
    const sealed = this.sealed[`${nodeKey}/${kind}`]
    if (sealed === undefined || !this.safeStorage.isEncryptionAvailable()) return undefined
    const value = this.safeStorage.decryptString(Buffer.from(sealed, 'base64'))
    this.memory.set(nodeKey, kind, value)
    return value
  }

  set(nodeKey: string, kind: SecretKind, value: string): void {
    this.memory.set(nodeKey, kind, value)
    if (!this.safeStorage.isEncryptionAvailable()) return
    this.sealed[`${nodeKey}/${kind}`] = this.safeStorage.encryptString(value).toString('base64')
    this.save()
  }

  delete(nodeKey: string): void {
    this.memory.delete(nodeKey)
    for (const k of Object.keys(this.sealed)) if (k.startsWith(`${nodeKey}/`)) delete this.sealed[k]
    this.save()
  }

  private save(): void {
    // Write then rename, so a crash never leaves half a file.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.sealed), { mode: 0o600 })
    renameSync(`${this.file}.tmp`, this.file)
  }
}
