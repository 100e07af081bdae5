import type { ApiError } from '../../shared/errors'
import { MigLabError } from '../../shared/errors'

/**
 * The CLI's own words for the contract: schema paths → the flags a user typed. The core reports
 * bad input by path (`vm`, `params.maxBandwidthMiBs`); only this door knows them as `--vm`,
 * `--max-bandwidth`.
 */
const FLAGS: Record<string, string> = {
  labId: '--lab',
  vm: '--vm',
  from: '--from',
  to: '--to',
  strategies: '--strategy',
  workloads: '--workload',
  repetitions: '--reps',
  'params.maxBandwidthMiBs': '--max-bandwidth',
  'params.downtimeLimitMs': '--downtime-limit',
  'params.multifdChannels': '--multifd-channels',
  'params.postcopyAfterMs': '--postcopy-after-ms',
  'params.postcopyAfterPasses': '--postcopy-after-passes',
  'params.sharedMemoryDir': '--shared-dir',
  'params.nodeMemoryDir': '--node-memory-dir',
  'params.sharedDiskDir': '--shared-disk-dir',
  'params.migrationNetwork': '--migration-network',
  'params.probeIntervalMs': '--probe-interval',
  params: '--postcopy-after-ms/--postcopy-after-passes',
  nodes: '--nodes',
  subnet: '--subnet',
  format: '--format',
}

/** `strategies.0` → `--strategy`, `workloads.1.bufferMiB` → `--workload`; the path itself when no flag sets it. */
export function flagFor(path: string): string {
  const parts = path.split('.')
  for (let n = parts.length; n > 0; n--) {
    const flag = FLAGS[parts.slice(0, n).join('.')]
    if (flag) return flag
  }
  return path
}

/**
 * Text safe to print on a terminal: control characters (newline, ESC, BEL, C1…) shown as escapes,
 * so a name cannot move the cursor, recolour the screen or fake another line of output.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    const code = c.codePointAt(0)!
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** A value the user gave, quoted for a message: escaped, and cut short when long. */
export function shown(value: string): string {
  const cut = value.length > 60 ? `${value.slice(0, 40)}…" (${value.length} characters)` : `${value}"`
  return `"${printable(cut)}`
}

/** A numeric flag: a number, or a clear refusal naming the flag — never NaN or an empty string taken as 0. */
export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const t = value.trim()
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t)) {
    throw new MigLabError('invalid_argument', `${flag} must be a number, not ${shown(value)}.`, { hint: `Give ${flag} a number, e.g. ${flag} 5.` })
  }
  return Number(t)
}

/**
 * An error as the CLI prints it: `miglab: <sentence>` then `  → <what to do>`, bad input named by
 * flag, every line free of raw control characters.
 */
export function cliErrorLines(e: ApiError, command: string | undefined): string[] {
  const help = `miglab ${command ? `${command} ` : ''}--help`
  if (e.code === 'invalid_input' && e.detail?.issues?.length) {
    const issues = e.detail.issues.map((i) => `${flagFor(i.path)}: ${i.message}`)
    const head = issues.length === 1 ? [`miglab: ${issues[0]}.`] : ['miglab: these options are not accepted:', ...issues.map((i) => `  ${i}`)]
    return [...head, `  → Correct ${issues.length === 1 ? 'it' : 'them'} and run the command again (${help} lists every option).`].map(printable)
  }
  return [`miglab: ${e.message}`, ...(e.detail?.hint ? [`  → ${e.detail.hint}`] : [])].map(printable)
}
