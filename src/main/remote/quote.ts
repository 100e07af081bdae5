import { MigLabError } from '../../shared/errors'

/** Words the shell never splits, globs or expands (no `=`: a bare first word `A=b` is an assignment); left bare so logs stay readable. */
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/

/**
 * The one POSIX shell quoting function: every remote argument goes through here. Single quotes
 * stop all expansion; a `'` inside closes the quote, adds an escaped quote and reopens (`'\''`).
 * NUL cannot be passed through argv at all, so it is refused rather than silently truncated.
 */
export function quote(arg: string): string {
  if (arg.includes('\0')) {
    throw new MigLabError('invalid_argument', 'A remote command argument contains a NUL byte, which no shell can pass on.', {
      hint: 'Remove the NUL character from the value.',
    })
  }
  if (SAFE.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}
