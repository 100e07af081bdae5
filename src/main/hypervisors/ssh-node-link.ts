import type { Duplex } from 'node:stream'
import type { RemoteCommand } from '../remote/command'
import { exec } from '../ssh/exec'
import { openUnixSocket } from '../ssh/forward'
import type { SshPool } from '../ssh/pool'
import type { LinkExecOptions, LinkExecResult, NodeLink } from './node-link'

/** A node reached over the SSH pool: exec on a session channel, unix sockets through OpenSSH stream-local forwarding. */
export class SshNodeLink implements NodeLink {
  constructor(
    private readonly pool: SshPool,
    readonly id: string,
    readonly name: string,
    readonly address: string,
  ) {}

  async exec(command: RemoteCommand, opts: LinkExecOptions = {}): Promise<LinkExecResult> {
    const r = await exec(this.pool, this.id, command, opts)
    return { code: r.code, stdout: r.stdout, stderr: r.stderr }
  }

  openUnixSocket(path: string): Promise<Duplex> {
    return openUnixSocket(this.pool, this.id, path)
  }
}
