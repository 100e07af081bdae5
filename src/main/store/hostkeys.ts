import { now, type Db } from './db'

export interface TrustedKey {
  host: string
  port: number
  algorithm: string
  /** SHA256:… exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string
  /** Base64 of the public key blob. */
  key: string
  trustedAt: string
}

/** Host keys the user accepted (trust on first use). One key per host:port; replacing is explicit. */
export class HostKeysRepo {
  constructor(private readonly db: Db) {}

  get(host: string, port: number): TrustedKey | undefined {
    const row = this.db.prepare('SELECT host, port, algorithm, fingerprint, key, trusted_at FROM host_keys WHERE host = ? AND port = ?').get(host, port) as
      | { host: string; port: number; algorithm: string; fingerprint: string; key: string; trusted_at: string }
      | undefined
    return row && { host: row.host, port: row.port, algorithm: row.algorithm, fingerprint: row.fingerprint, key: row.key, trustedAt: row.trusted_at }
  }

  /** Records (or, after the user confirmed a replacement, overwrites) the key for host:port. */
  trust(key: Omit<TrustedKey, 'trustedAt'>): void {
    this.db
      .prepare(
        `INSERT INTO host_keys (host, port, algorithm, fingerprint, key, trusted_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (host, port) DO UPDATE SET algorithm = excluded.algorithm, fingerprint = excluded.fingerprint,
           key = excluded.key, trusted_at = excluded.trusted_at`,
      )
      .run(key.host, key.port, key.algorithm, key.fingerprint, key.key, now())
  }

  forget(host: string, port: number): void {
    this.db.prepare('DELETE FROM host_keys WHERE host = ? AND port = ?').run(host, port)
  }
}
