import type { SecretStoreInfo } from '../../shared/domain'

/** Which secret of a node: the login password (also used for sudo) or the private key's passphrase. */
export type SecretKind = 'password' | 'passphrase'

/**
 * Where node secrets live: never SQLite, never logs. Browser mode and the CLI keep them in memory
 * for the session; the desktop door seals them with Electron safeStorage (doors/safe-storage-secrets).
 */
export type { SecretStoreInfo }

export interface SecretStore {
  get(nodeKey: string, kind: SecretKind): string | undefined
  set(nodeKey: string, kind: SecretKind, value: string): void
  /** Forgets every secret of the node. */
  delete(nodeKey: string): void
  /** Every node that has a secret here (so the core can drop those of nodes that no longer exist). */
  nodeKeys(): string[]
  describe(): SecretStoreInfo
}

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>()

  get(nodeKey: string, kind: SecretKind): string | undefined {
    return this.values.get(`${nodeKey}\0${kind}`)
  }

  set(nodeKey: string, kind: SecretKind, value: string): void {
    this.values.set(`${nodeKey}\0${kind}`, value)
  }

  delete(nodeKey: string): void {
    for (const k of [...this.values.keys()]) if (k.startsWith(`${nodeKey}\0`)) this.values.delete(k)
  }

  nodeKeys(): string[] {
    return [...new Set([...this.values.keys()].map((k) => k.slice(0, k.indexOf('\0'))))]
  }

  describe(): SecretStoreInfo {
    return { kind: 'memory', note: 'Passwords and passphrases are kept in memory only for this session; they are never written to disk.' }
  }
}
