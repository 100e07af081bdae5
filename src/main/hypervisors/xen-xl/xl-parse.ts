/** Parsers for what `xl` prints. Pure, so contract tests feed them the recipe's real output. */

export interface XlDomain {
  /** The name as xl shows it; during a migration `<vm>--incoming` (target) or `<vm>--migratedaway` (source). */
  name: string
  id: number
  memoryMiB: number
  /** MigLab's word for the xl state letters (r/b running, p paused, s shutdown, c crashed, d dying). */
  state: string
}

/** xl's state column is six letters or dashes, `rbpscd`; a domain with none set is running but idle. */
export function domainState(flags: string): string {
  if (flags.includes('c')) return 'crashed'
  if (flags.includes('d')) return 'dying'
  if (flags.includes('s')) return 'shutdown'
  if (flags.includes('p')) return 'paused'
  return 'running'
}

/** `xl list` without dom0. */
export function parseXlList(text: string): XlDomain[] {
  const out: XlDomain[] = []
  for (const line of text.split('\n').slice(1)) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-rbpscd]{6})\s/.exec(line.trim() + ' ')
    if (!m || m[2] === '0') continue
    out.push({ name: m[1], id: Number(m[2]), memoryMiB: Number(m[3]), state: domainState(m[5]) })
  }
  return out
}

/** A migrating domain's name on either side, and what that says about where it is. */
export function baseName(domain: string): { vm: string; role: 'vm' | 'incoming' | 'migratedaway' } {
  for (const role of ['incoming', 'migratedaway'] as const) if (domain.endsWith(`--${role}`)) return { vm: domain.slice(0, -(role.length + 2)), role }
  return { vm: domain, role: 'vm' }
}

/** `key : value` lines of `xl info`. */
export function parseXlInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s*:\s*(.*)$/.exec(line.trim())
    if (m) out[m[1]] = m[2]
  }
  return out
}

/**
 * The phases of `xl migrate`, in order, as the lines that announce them (sender and target both print
 * to the sender's stderr: the target's through the SSH channel). `failed` ends a migration that xl
 * rolled back: the domain resumes on the source.
 */
export const XL_PHASES = [
  ['ready', /migration target: Ready to receive domain/, 'target ready'],
  ['saving', /Saving to migration stream/, 'memory stream'],
  ['restored', /Restore successful/, 'restored on target'],
  ['transfer_complete', /migration target: Transfer complete/, 'devices attached'],
  ['permission', /Giving target permission to start|Got permission, starting domain/, 'permission to start'],
  ['started', /migration target: Domain started succ?es+fully/, 'started on target'],
  ['successful', /^Migration successful/, 'successful'],
  ['failed', /Migration failed, resuming at sender/, 'failed, resuming at sender'],
] as const

export type XlPhase = (typeof XL_PHASES)[number][0]
/** How the phase timeline names a phase (`begin`: MigLab started `xl migrate`). */
export const phaseLabel = (phase: XlPhase | 'begin'): string => (phase === 'begin' ? 'xl migrate started' : XL_PHASES.find(([p]) => p === phase)![2])

/** The phase a line of `xl migrate` output announces, if any. */
export function phaseOf(line: string): XlPhase | undefined {
  return XL_PHASES.find(([, re]) => re.test(line.trim()))?.[0]
}

/** Splits a byte stream into lines as chunks arrive; each complete line is handed on with the time it completed. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let rest = ''
  return {
    push(chunk) {
      const parts = (rest + chunk.toString()).split('\n')
      rest = parts.pop() ?? ''
      for (const l of parts) if (l.trim()) onLine(l.replace(/\r$/, ''))
    },
    end() {
      if (rest.trim()) onLine(rest)
      rest = ''
    },
  }
}

/** Phase durations from the first time each phase was seen (ms on one timeline); only spans whose both ends were seen. */
export function phaseFigures(seen: Partial<Record<XlPhase, number>>, startedAtMs: number): Record<string, number> {
  const span = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b >= a ? b - a : undefined)
  const figures: Record<string, number | undefined> = {
    total_ms: span(startedAtMs, seen.successful),
    xl_stream_ms: span(seen.ready, seen.restored),
    xl_attach_ms: span(seen.restored, seen.transfer_complete),
    xl_start_ms: span(seen.transfer_complete, seen.started),
  }
  return Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => e[1] !== undefined))
}
