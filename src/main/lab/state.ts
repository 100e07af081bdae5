import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Accel } from '../hypervisors/qemu/accel'

/** What `up` decided, kept so `status`, repair and `down` work from any later process. */
export interface LabSettings {
  prefix: string
  subnet: string
  nodes: number
  accel?: Accel
  accelReason?: string
  /** The image `up` built or found in the cache, so booting a guest needs no apt look-up. */
  guestImage?: { key: string; kernel: string; initrd: string }
}

/** Where a demo lab keeps its files: `<dataDir>/demo-lab/<prefix>/`, with the guest image cache beside. */
export class LabPaths {
  readonly root: string
  readonly cacheDir: string

  constructor(
    dataDir: string,
    private readonly prefix: string,
  ) {
    this.root = join(dataDir, 'demo-lab', prefix)
    // Shared by every prefix in this data dir: the image does not depend on the lab's addresses.
    this.cacheDir = join(dataDir, 'demo-lab', 'cache')
  }

  get settings(): string {
    return join(this.root, 'lab.json')
  }
  get lock(): string {
    return join(this.root, 'lock')
  }
  /** The lab's own client key; its .pub is every node's authorized_keys. */
  get clientKey(): string {
    return join(this.root, 'id_ed25519')
  }
  nodeDir(node: string): string {
    return join(this.root, node)
  }
  get guestsDir(): string {
    return join(this.root, 'guests')
  }
  /** The lab's folder for guest RAM shared by its nodes (one machine's memory: an ideal, not a real DSM). */
  get shmDir(): string {
    return `/dev/shm/${this.prefix}-shm`
  }

  /**
   * Where each node keeps guest RAM of its own: every node mounts its own tmpfs here in its mount
   * namespace, so a file one node writes there is not the other's (the DSM runtime copies it).
   */
  get ramDir(): string {
    return `/dev/shm/${this.prefix}-ram`
  }

  readSettings(): LabSettings | undefined {
    try {
      return JSON.parse(readFileSync(this.settings, 'utf8')) as LabSettings
    } catch {
      return undefined
    }
  }

  writeSettings(settings: LabSettings): void {
    mkdirSync(this.root, { recursive: true })
    writeFileSync(`${this.settings}.tmp`, JSON.stringify(settings, null, 2))
    renameSync(`${this.settings}.tmp`, this.settings)
  }
}
