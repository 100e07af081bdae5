/**
 * Parsers for the two output formats of the xe CLI (XenServer CLI reference):
 * - `--minimal`: the values only, comma-separated on one line (`uuid1,uuid2`), empty when none;
 * - records: one `name ( RO)    : value` line per field, `( RW)` for writable fields, `(MRO)`/`(MRW)`
 *   for maps (`key: value; key: value`) and `(SRO)`/`(SRW)` for sets (`a; b`), records separated
 *   by blank lines.
 */

import { MigLabError } from '../../../shared/errors'

export type XeRecord = Record<string, string>

export function parseMinimal(text: string): string[] {
  const line = text.trim()
  return line === '' ? [] : line.split(',').map((s) => s.trim())
}

// The qualifier is padded to three characters: ` RO`, ` RW`, `MRO`, `SRW`… xe also pads the name.
const FIELD = /^\s*([^\s(][^(]*?)\s*\(\s?([MS]?R[OW])\)\s*:\s?(.*)$/

export function parseRecords(text: string): XeRecord[] {
  const records: XeRecord[] = []
  let current: XeRecord | undefined
  let lastKey: string | undefined
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      current = undefined
      lastKey = undefined
      continue
    }
    const m = FIELD.exec(line)
    if (m) {
      if (!current) records.push((current = {}))
      current[m[1]] = m[3]
      lastKey = m[1]
    } else if (current && lastKey) {
      // A value with a newline in it (a description) continues on the next line.
      current[lastKey] += `\n${line}`
    }
  }
  return records
}

/** `(MRO)` values: `product_version: 8.2.1; xapi: 1.20`. */
export function parseMap(value: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of value.split(';')) {
    const i = part.indexOf(':')
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  return out
}

/** `(SRO)` values: `a; b; c`. */
export const parseSet = (value: string): string[] =>
  value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)

/**
 * xapi datetimes as xe prints them: ISO 8601 basic (`20240521T10:11:12Z`), sometimes with
 * fractional seconds; NaN when unparseable (e.g. `finished` of a pending task, `19700101T00:00:00Z`).
 */
export function parseXeTime(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)Z?$/.exec(value.trim())
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Date.parse(value)
  return Number.isFinite(ms) && ms > 0 ? ms : NaN
}

/**
 * `xe task-param-get … param-name=progress`: xapi's 0–1 float on one line (`0.300`). Anything else
 * is an error quoting the line: a progress MigLab cannot read is not a progress of 0.
 */
export function parseProgress(text: string): number {
  const line = text.trim()
  const value = /^\d+(\.\d+)?$/.test(line) ? Number(line) : NaN
  if (!(value >= 0 && value <= 1)) {
    throw new MigLabError('xen_progress_malformed', `xe printed a task progress MigLab cannot read: ${JSON.stringify(line)} (expected a number from 0 to 1).`, {
      hint: 'Run `xe task-param-get uuid=<task> param-name=progress` on the host; an xe whose output differs from xapi\'s `%.3f` is not one MigLab knows.',
      output: text,
    })
  }
  return value
}
