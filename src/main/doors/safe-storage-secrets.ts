import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { MemorySecretStore, type SecretKind, type SecretStore, type SecretStoreInfo } from '../ssh/secrets'
import type { SafeStorageLike } from './electron-types'

/**
 * Whether safeStorage really seals with an OS keyring. On Linux without a keyring (no
 * gnome-keyring/KWallet, e.g. a head node reached over ssh -X) Electron falls back to its
 * `basic_text` backend, whose key is hard-coded: "encrypted" files are as good as clear text.
 */
export function keyringOf(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): { ok: true; backend: string } | { ok: false; why: string } {
  if (!safeStorage.isEncryptionAvailable()) return { ok: false, why: 'the OS offers no encryption for stored secrets' }
  if (platform !== 'linux') return { ok: true, backend: platform === 'darwin' ? 'Keychain' : 'DPAPI' }
  const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown'
  if (backend === 'basic_text') return { ok: false, why: 'no OS keyring (Electron would use its basic_text backend, a key built into every copy)' }
  if (backend === 'unknown') return { ok: false, why: 'Electron could not tell which keyring it would use' }
  return { ok: true, backend }
}

/**
 * Desktop secrets: node passwords and passphrases encrypted with the OS keyring through Electron's
 * safeStorage, in their own file beside (never inside) the SQLite history, so they survive a
 * restart. Where the OS offers no real keyring they stay in memory only — the file is then never
 * read or written (only removals still reach it).
 */
export class SafeStorageSecretStore implements SecretStore {
  private readonly memory = new MemorySecretStore()
  private readonly sealed: Record<string, string>
  private readonly keyring: ReturnType<typeof keyringOf>

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly file: string,
    platform: NodeJS.Platform = process.platform,
  ) {
    this.keyring = keyringOf(safeStorage, platform)
    this.sealed = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
  }

  describe(): SecretStoreInfo {
    return this.keyring.ok
      ? { kind: 'keyring', note: `Passwords and passphrases are sealed by the OS keyring (${this.keyring.backend}) in a file beside the history, never in it.` }
      : { kind: 'memory', note: `Passwords are kept in memory only for this session: ${this.keyring.why}.` }
  }

  get(nodeKey: string, kind: SecretKind): string | undefined {
    const held = this.memory.get(nodeKey, kind)
    if (held !== undefined) return held
    const sealed = this.sealed[`${nodeKey}/${kind}`]
    if (sealed === undefined || !this.keyring.ok) return undefined
    const value = this.safeStorage.decryptString(Buffer.from(sealed, 'base64'))
    this.memory.set(nodeKey, kind, value)
    return value
  }

  set(nodeKey: string, kind: SecretKind, value: string): void {
    this.memory.set(nodeKey, kind, value)
    if (!this.keyring.ok) return
    this.sealed[`${nodeKey}/${kind}`] = this.safeStorage.encryptString(value).toString('base64')
    this.save()
  }

  delete(nodeKey: string): void {
    this.memory.delete(nodeKey)
    const mine = Object.keys(this.sealed).filter((k) => k.startsWith(`${nodeKey}/`))
    if (mine.length === 0) return
    for (const k of mine) delete this.sealed[k]
    this.save()
  }

  nodeKeys(): string[] {
    const sealed = Object.keys(this.sealed).map((k) => k.slice(0, k.lastIndexOf('/')))
    return [...new Set([...this.memory.nodeKeys(), ...sealed])]
  }

  private save(): void {
    // Write then rename, so a crash never leaves half a file.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.sealed), { mode: 0o600 })
    renameSync(`${this.file}.tmp`, this.file)
  }
}
