import type { Duplex } from 'node:stream'
import type { SshPool } from './pool'

/** A stream to a unix socket on the node (e.g. a QEMU QMP socket), over the node's SSH connection. */
export function openUnixSocket(pool: SshPool, nodeKey: string, socketPath: string): Promise<Duplex> {
  return pool.channel(nodeKey, 'forward', (c, cb) => c.openssh_forwardOutStreamLocal(socketPath, cb))
}
