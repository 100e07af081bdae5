import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { MigLabError } from '../../shared/errors'

/** Why a path was refused, for callers and tests; the message says it in words. */
export type RefusedBecause = 'missing' | 'symlink' | 'not_regular' | 'too_big' | 'host_key' | 'unreadable'

export interface UserFileOptions {
  /** Error code of the caller's area, e.g. 'key_unreadable', 'ssh_config_unreadable'. */
  code: string
  /** What the file is, in the sentence: "the private key", "the SSH config". */
  what: string
  /** Largest size accepted; 64 KiB by default (keys and configs are a few KiB). */
  maxBytes?: number
  /** What the user should do; appended to the reason-specific hint. */
  hint?: string
  /**
   * Follow a symlink as the last component. Only for paths MigLab chose itself (~/.ssh/known_hosts,
   * often a dotfile link), never for one a user typed; the descriptor checks still apply.
   */
  followSymlink?: boolean
}

export const USER_FILE_MAX = 64 * 1024

const HOST_KEY_DIR = '/etc/ssh'
const HOST_KEY_NAME = /^ssh_host_.+_key$/

/**
 * Reads a file whose path a user typed (key files, ssh config, known_hosts). Only a regular file
 * up to `maxBytes`: FIFOs, devices (/dev/zero), sockets and directories are refused without
 * blocking (opened O_NONBLOCK), a symlink as the last component is refused (O_NOFOLLOW), and the
 * checks are made on the opened descriptor, so the path cannot be swapped between check and read.
 * This machine's private host keys are refused: MigLab must not log in elsewhere with them.
 */
export function readUserFile(path: string, o: UserFileOptions): Buffer {
  const max = o.maxBytes ?? USER_FILE_MAX
  const refuse = (because: RefusedBecause, sentence: string, hint: string, cause?: string): MigLabError =>
    new MigLabError(o.code, `Cannot read ${path} as ${o.what}: ${sentence}.`, {
      path,
      because,
      ...(cause ? { cause } : {}),
      hint: o.hint ? `${hint} ${o.hint}` : hint,
    })
  if (isHostKeyPath(path)) {
    throw refuse('host_key', "it is one of this machine's private SSH host keys", 'Use a client key of your own (ssh-keygen -t ed25519), never a server host key.')
  }
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | (o.followSymlink ? 0 : constants.O_NOFOLLOW) | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e.code === 'ELOOP') throw refuse('symlink', 'it is a symbolic link', 'Give the path of the file itself (readlink -f shows it).')
    if (e.code === 'ENOENT') throw refuse('missing', 'there is no such file', 'Check the path.')
    throw refuse('unreadable', `it cannot be opened (${e.code ?? e.message})`, 'Check the path and its permissions.', e.message)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a named pipe (FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file'
      throw refuse('not_regular', `it is ${kind}, not a regular file`, 'Give the path of a regular file.')
    }
    if (isHostKey(st.dev, st.ino)) {
      throw refuse('host_key', "it is one of this machine's private SSH host keys", 'Use a client key of your own (ssh-keygen -t ed25519), never a server host key.')
    }
    if (st.size > max) throw refuse('too_big', `it is ${st.size} bytes, more than the ${max} bytes such a file can need`, 'Check that the path names the right file.')
    // Read at most max + 1 bytes: a file that grows after fstat is still caught.
    const buf = Buffer.alloc(max + 1)
    let n = 0
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r
    if (n > max) throw refuse('too_big', `it is more than the ${max} bytes such a file can need`, 'Check that the path names the right file.')
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

/** Like readUserFile, but a missing file is simply absent (known_hosts on a fresh machine). */
export function readUserFileIfPresent(path: string, o: UserFileOptions): Buffer | undefined {
  try {
    return readUserFile(path, o)
  } catch (err) {
    if (err instanceof MigLabError && err.detail?.because === 'missing') return undefined
    throw err
  }
}

function isHostKeyPath(path: string): boolean {
  const abs = resolve(path)
  return abs.startsWith(`${HOST_KEY_DIR}/`) && HOST_KEY_NAME.test(abs.slice(HOST_KEY_DIR.length + 1))
}

/** The same inode as a host key (a hard link, a bind mount, /etc//ssh/./…). */
function isHostKey(dev: number, ino: number): boolean {
  let names: string[]
  try {
    names = readdirSync(HOST_KEY_DIR)
  } catch {
    return false
  }
  for (const name of names) {
    if (!HOST_KEY_NAME.test(name)) continue
    try {
      const st = statSync(`${HOST_KEY_DIR}/${name}`)
      if (st.dev === dev && st.ino === ino) return true
    } catch {
      // gone meanwhile
    }
  }
  return false
}
