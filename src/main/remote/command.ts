import { MigLabError } from '../../shared/errors'
import { quote } from './quote'

const brand: unique symbol = Symbol('RemoteCommand')

/**
 * A shell command line for a node, only obtainable from the builders below, so every argument in it
 * went through `quote`. `text` is what the remote shell runs (and what error messages show).
 */
export interface RemoteCommand {
  readonly [brand]: true
  readonly text: string
}

export type Arg = string | number

const make = (text: string): RemoteCommand => ({ [brand]: true, text })

const argText = (a: Arg): string => quote(typeof a === 'number' ? String(a) : a)

/** A simple command: program and arguments, each quoted. */
export function cmd(program: string, ...args: Arg[]): RemoteCommand {
  if (program === '') throw new MigLabError('invalid_argument', 'A remote command needs a program name.')
  return make([program, ...args].map(argText).join(' '))
}

// Each part is grouped so precedence never depends on what the part contains.
const group = (c: RemoteCommand): string => `{ ${c.text}\n}`
const join = (op: string, parts: RemoteCommand[]): RemoteCommand => {
  if (parts.length === 0) throw new MigLabError('invalid_argument', `An empty "${op.trim()}" list is not a command.`)
  return make(parts.length === 1 ? parts[0].text : parts.map(group).join(op))
}

/** `a | b | c` */
export const pipeline = (...parts: RemoteCommand[]): RemoteCommand => join(' | ', parts)
/** `a && b && c` — stops at the first failure. */
export const and = (...parts: RemoteCommand[]): RemoteCommand => join(' && ', parts)
/** `a || b || c` — stops at the first success. */
export const or = (...parts: RemoteCommand[]): RemoteCommand => join(' || ', parts)
/** `a; b; c` — runs all; the status is the last one's. */
export const seq = (...parts: RemoteCommand[]): RemoteCommand => join('; ', parts)

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Runs `c` with extra environment variables, in a subshell so they do not leak into what follows. */
export function withEnv(env: Record<string, Arg>, c: RemoteCommand): RemoteCommand {
  const names = Object.keys(env)
  for (const name of names) {
    if (!IDENTIFIER.test(name)) {
      throw new MigLabError('invalid_argument', `"${name}" is not a valid environment variable name.`, {
        hint: 'Use letters, digits and underscores, not starting with a digit.',
      })
    }
  }
  if (names.length === 0) return c
  return make(`(export ${names.map((n) => `${n}=${argText(env[n])}`).join(' ')} && ${group(c)})`)
}

export interface Redirects {
  /** Read stdin from this file. */
  stdin?: string
  /** Write stdout to this file (`append` to add instead of truncate). */
  stdout?: string
  append?: boolean
  /** Write stderr to this file, or 'stdout' to merge it into stdout. */
  stderr?: string | 'stdout'
}

export function redirect(c: RemoteCommand, r: Redirects): RemoteCommand {
  let text = group(c)
  if (r.stdin !== undefined) text += ` <${quote(r.stdin)}`
  if (r.stdout !== undefined) text += ` ${r.append ? '>>' : '>'}${quote(r.stdout)}`
  if (r.stderr !== undefined) text += r.stderr === 'stdout' ? ' 2>&1' : ` 2>${quote(r.stderr)}`
  return make(text)
}

/**
 * Runs `c` as root through sudo. `-S -p ''` reads the password from stdin without a prompt (the
 * executor writes it there, never on the command line); `-n` fails at once when no password is
 * known instead of hanging on a prompt nobody sees.
 */
export function sudo(c: RemoteCommand, opts: { password: boolean }): RemoteCommand {
  return make(`${opts.password ? "sudo -S -p ''" : 'sudo -n'} -- sh -c ${quote(c.text)}`)
}

/**
 * Wraps `c` so the remote shell first reports its PID on stderr. sshd makes that shell a session
 * and process-group leader, so the PID names the whole group: cancelling kills it with
 * `killGroup` over a second channel instead of merely abandoning the channel.
 */
export const reportingPid = (c: RemoteCommand): RemoteCommand => make(`echo $$ >&2; ${group(c)}`)

/**
 * SIGTERM to the process group, then SIGKILL after `graceS` seconds if anything is left. The
 * `kill -s SIG -- -PGID` spelling is the POSIX one: dash rejects `kill -TERM -- -PGID`.
 */
export function killGroup(pgid: number, graceS: number): RemoteCommand {
  if (!Number.isInteger(pgid) || pgid <= 1) throw new MigLabError('invalid_argument', `Not a process group id: ${pgid}.`)
  const signal = (sig: string): RemoteCommand => redirect(cmd('kill', '-s', sig, '--', `-${pgid}`), { stderr: '/dev/null' })
  return seq(signal('TERM'), cmd('sleep', graceS), and(signal('0'), signal('KILL')), cmd('true'))
}
