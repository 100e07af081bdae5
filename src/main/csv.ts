/**
 * CSV cells a spreadsheet will not run. A text cell starting with `=`, `+`, `-`, `@`, tab or CR is
 * taken as a formula by Excel, LibreOffice and Google Sheets (CSV injection: a VM called
 * `=HYPERLINK(…)` or a custom workload `@SUM(…)`); such cells get a leading `'`, which the
 * spreadsheet shows as text. Numbers are written as numbers: a metric of -3.2 stays -3.2.
 */
const FORMULA_START = /^[=+\-@\t\r]/

export function csvText(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text
}

/** One exported cell: numbers and booleans as they are, missing as empty, anything else as safe text. */
export function csvCell(value: unknown): string | number | boolean {
  if (value === undefined || value === null) return ''
  if (typeof value === 'number' || typeof value === 'boolean') return value
  return csvText(typeof value === 'object' ? JSON.stringify(value) : String(value))
}
