import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { run } from '../lab/exec'
import { safeId } from '../util/safe-id'

/** What one node needs for TLS migration streams: MigLab's CA, and the node's own certificate and key. */
export interface TlsMaterial {
  caCert: string
  cert: string
  key: string
}

const DAYS = '3650'

/**
 * MigLab's own certificate authority for migration streams, one per data directory (0700): its key
 * never leaves this machine. Each node gets a certificate for its lab address, good for both ends of
 * a stream (QEMU's server and client), so either node can send or receive. Made with `openssl`.
 */
export class MigrationCa {
  private readonly dir: string
  private readonly pending = new Map<string, Promise<TlsMaterial>>()
  /** One openssl at a time: two nodes' certificates are signed with one CA key and serial file. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'tls')
  }

  /** The node's material, created on first use and kept (keyed by node id and address). */
  material(nodeId: string, address: string): Promise<TlsMaterial> {
    const key = `${nodeId}\0${address}`
    let p = this.pending.get(key)
    if (!p) {
      p = this.queue.then(() => this.issue(safeId(`${nodeId}@${address}`), address))
      this.queue = p.catch(() => undefined)
      this.pending.set(key, p)
      p.catch(() => this.pending.delete(key))
    }
    return p
  }

  private async ensureCa(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    if (existsSync(join(this.dir, 'ca-cert.pem'))) return
    await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', DAYS, '-subj', '/CN=MigLab migration CA', '-keyout', join(this.dir, 'ca-key.pem'), '-out', join(this.dir, 'ca-cert.pem')])
  }

  private async issue(name: string, address: string): Promise<TlsMaterial> {
    await this.ensureCa()
    const keyFile = join(this.dir, `${name}-key.pem`)
    const certFile = join(this.dir, `${name}-cert.pem`)
    if (!existsSync(certFile)) {
      const csr = join(this.dir, `${name}.csr`)
      const ext = join(this.dir, `${name}.ext`)
      const san = isIP(address) ? `IP:${address}` : `DNS:${address}`
      await run(['openssl', 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${address}`, '-keyout', keyFile, '-out', csr])
      writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n`)
      await run(['openssl', 'x509', '-req', '-in', csr, '-CA', join(this.dir, 'ca-cert.pem'), '-CAkey', join(this.dir, 'ca-key.pem'), '-CAcreateserial', '-days', DAYS, '-extfile', ext, '-out', certFile])
    }
    const read = (f: string) => readFileSync(f, 'utf8')
    return { caCert: read(join(this.dir, 'ca-cert.pem')), cert: read(certFile), key: read(keyFile) }
  }
}
