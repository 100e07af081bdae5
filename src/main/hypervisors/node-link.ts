import type { Duplex, Readable } from 'node:stream'
import { MigLabError } from '../../shared/errors'
import type { RemoteCommand } from '../remote/command'

export interface LinkExecResult {
  /** Exit status; null when a signal ended the command. */
  code: number | null
  stdout: string
  stderr: string
}

export interface ExecOpts {
  timeoutMs?: number
  signal?: AbortSignal
  stdin?: string | Readable
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

/**
 * All a hypervisor driver may do to a node: run a built command and open a unix socket there.
 * Over SSH in the app (ssh-node-link.ts); tests use a local stand-in. Drivers never see hosts or keys.
 */
export interface NodeLink {
  /** Stable identity (the node's database id over SSH): caches and locks are keyed by it, never by name. */
  readonly id: string
  /** Display name, unique only within its lab. */
  readonly name: string
  /** The address other nodes reach this node at (migration streams go there). */
  readonly address: string
  /**
   * `stdin` is written to the command and closed: how secrets reach a node (never its command line);
   * a stream is piped and ends when it does (a long-running command driven line by line).
   * `onStdout`/`onStderr` hear output as it arrives (e.g. `xl migrate`'s phase lines, timestamped on arrival).
   */
  exec(command: RemoteCommand, opts?: ExecOpts): Promise<LinkExecResult>
  openUnixSocket(path: string): Promise<Duplex>
}

const tail = (text: string): string => text.trimEnd().split('\n').slice(-15).join('\n')

/** Runs `command`; a non-zero exit becomes `remote_failed` with the command and its stderr tail. */
export async function execOk(link: NodeLink, command: RemoteCommand, what: string, opts?: ExecOpts): Promise<string> {
  const r = await link.exec(command, opts)
  if (r.code !== 0) {
    throw new MigLabError('remote_failed', `${what} failed on node ${link.name} (exit ${r.code ?? 'by signal'}).`, {
      command: command.text,
      stderrTail: tail(r.stderr || r.stdout),
    })
  }
  return r.stdout
}
