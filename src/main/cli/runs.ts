import type { Command } from 'commander'
import { readFileSync, writeFileSync } from 'node:fs'
import { exportFormats, runStatuses, UPLOAD_PART_BASE64, type HistoryResults, type RunFilter } from '../../shared/contract/history'
import type { Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { pickLab } from './run'
import { call, withCore } from './session'

interface FilterOptions {
  strategy?: string[]
  workload?: string[]
  lab?: string[]
  status?: string[]
  tag?: string[]
  from?: string
  to?: string
  metric?: string[]
  text?: string
  starred?: boolean
}

const list = (vs: string[] | undefined): string[] | undefined => vs?.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)

/** `key>=1`, `key<=9`, `key=1..9`: a metric range as the contract takes it. */
export function parseMetricRange(text: string): { key: string; min?: number; max?: number } {
  const m = /^([A-Za-z0-9_.-]+)\s*(>=|<=|=)\s*(-?[\d.e+-]+)(?:\.\.(-?[\d.e+-]+))?$/.exec(text.trim())
  const bad = () => new MigLabError('invalid_argument', `--metric "${text}": write key>=N, key<=N or key=A..B.`)
  if (!m) throw bad()
  const [, key, op, a, b] = m
  const num = (s: string) => {
    const n = Number(s)
    if (!Number.isFinite(n)) throw bad()
    return n
  }
  if (op === '>=') return { key, min: num(a) }
  if (op === '<=') return { key, max: num(a) }
  return b === undefined ? { key, min: num(a), max: num(a) } : { key, min: num(a), max: num(b) }
}

async function filterOf(o: FilterOptions, labs: () => Promise<Lab[]>): Promise<RunFilter> {
  const f: RunFilter = {}
  if (o.strategy) f.strategies = list(o.strategy)
  if (o.workload) f.workloads = list(o.workload)
  if (o.status) {
    const bad = list(o.status)!.find((s) => !(runStatuses as readonly string[]).includes(s))
    if (bad) throw new MigLabError('invalid_argument', `--status ${bad}: use ${runStatuses.join(', ')}.`)
    f.statuses = list(o.status) as RunFilter['statuses']
  }
  if (o.lab) {
    const all = await labs()
    f.labIds = list(o.lab)!.map((name) => pickLab(all, name).id)
  }
  if (o.tag) f.tags = list(o.tag)
  if (o.from) f.from = o.from
  if (o.to) f.to = o.to
  if (o.metric) f.metrics = o.metric.map(parseMetricRange)
  if (o.text) f.text = o.text
  if (o.starred) f.starred = true
  return f
}

const withFilterOptions = (c: Command): Command =>
  c
    .option('--strategy <list...>', 'only these strategies')
    .option('--workload <list...>', 'only these workloads (as listed, e.g. idle, dirty:64M:50)')
    .option('--lab <list...>', 'only these labs (name or id)')
    .option('--status <list...>', runStatuses.join(', '))
    .option('--tag <tag...>', 'runs carrying every one of these tags')
    .option('--from <date>', 'started at or after (ISO 8601)')
    .option('--to <date>', 'started at or before (ISO 8601)')
    .option('--metric <range...>', 'metric range: key>=N, key<=N or key=A..B')
    .option('--text <words>', 'words in the VM, strategy, workload, tags or notes')
    .option('--starred', 'starred runs only')

const fmt = (v: number | undefined) => (v === undefined ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1))

async function listCommand(o: FilterOptions & { json?: boolean; limit: string; offset: string; sort?: string; asc?: boolean }): Promise<void> {
  await withCore(async (core) => {
    const filter = await filterOf(o, () => call<Lab[]>(core, 'labs.list', {}))
    const page = await call<HistoryResults['runs.query']>(core, 'runs.query', {
      filter,
      offset: Number(o.offset),
      limit: Number(o.limit),
      ...(o.sort ? { sort: { by: o.sort, desc: !o.asc } } : {}),
    })
    if (o.json) return console.log(JSON.stringify(page, null, 2))
    const rows = page.runs.map((r) => [
      String(r.id),
      r.startedAt.slice(0, 19).replace('T', ' '),
      r.vm,
      r.strategy,
      r.workload,
      r.status,
      fmt(r.metrics.qemu_downtime_ms),
      fmt(r.metrics.stop_resume_ms),
      fmt(r.metrics.probe_gap_ms),
      r.metrics.transferred_bytes === undefined ? '–' : fmt(r.metrics.transferred_bytes / 1048576),
      `${r.starred ? '★ ' : ''}${r.tags.join(',')}`,
    ])
    const head = ['id', 'started', 'vm', 'strategy', 'workload', 'status', 'QEMU ms', 'STOP→RESUME ms', 'gap ms', 'sent MiB', 'tags']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
    console.log([line(head), ...rows.map(line)].join('\n'))
    console.log(`(${page.runs.length ? `${page.offset + 1}–${page.offset + page.runs.length}` : '0'} of ${page.total} runs)`)
  })
}

async function exportCommand(o: FilterOptions & { format: string; out?: string }): Promise<void> {
  if (!(exportFormats as readonly string[]).includes(o.format)) throw new MigLabError('invalid_argument', `--format must be ${exportFormats.join(', ')}, not "${o.format}".`)
  await withCore(async (core) => {
    const filter = await filterOf(o, () => call<Lab[]>(core, 'labs.list', {}))
    const out = await call<HistoryResults['runs.export']>(core, 'runs.export', { format: o.format, ...(Object.keys(filter).length ? { filter } : {}) })
    const data = out.encoding === 'base64' ? Buffer.from(out.content, 'base64') : Buffer.from(out.content, 'utf8')
    if (o.out) {
      writeFileSync(o.out, data)
      console.error(`Wrote ${o.out} (${Math.round(data.length / 1024)} KiB).`)
    } else process.stdout.write(data)
  })
}

async function importCommand(file: string, o: { json?: boolean }): Promise<void> {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (err) {
    throw new MigLabError('file_unreadable', `Cannot read ${file}: ${(err as Error).message}`)
  }
  await withCore(async (core) => {
    // In parts, as the UI sends it: one contract message stays under every door's frame limit.
    const part = (UPLOAD_PART_BASE64 / 4) * 3
    let upload: string | undefined
    if (data.length > part) for (let i = 0; i < data.length; i += part) upload = (await call<{ upload: string }>(core, 'runs.upload', { ...(upload ? { upload } : {}), base64: data.subarray(i, i + part).toString('base64') })).upload
    const report = await call<HistoryResults['runs.import']>(core, 'runs.import', upload ? { name: file, upload } : { name: file, base64: data.toString('base64') })
    if (o.json) return console.log(JSON.stringify(report, null, 2))
    console.log(`Imported ${report.imported.length} runs, skipped ${report.skipped.length}.`)
    const reasons = new Map<string, number>()
    for (const s of report.skipped) reasons.set(s.reason.replace(/#\d+/, '#…'), (reasons.get(s.reason.replace(/#\d+/, '#…')) ?? 0) + 1)
    for (const [reason, n] of reasons) console.log(`  ${n} skipped: ${reason}`)
  })
}

/** runs list | export | import: the same contract calls as the Runs page. */
export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('the stored migration runs: list, export, import (no lab needed)')
  withFilterOptions(runs.command('list').description('list stored runs, newest first'))
    .option('--sort <by>', 'started, id, vm, strategy, workload, status, duration, metric:<key> or param:<key>')
    .option('--asc', 'ascending order')
    .option('--limit <n>', 'at most this many', '50')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'machine-readable output')
    .action(listCommand)
  withFilterOptions(runs.command('export').description('runs as CSV, JSON (time series included) or a bundle another MigLab imports'))
    .option('--format <format>', exportFormats.join(', '), 'csv')
    .option('--out <file>', 'write to this file (default: stdout)')
    .action(exportCommand)
  runs
    .command('import')
    .description('merge a bundle or JSON export into this history (runs already here are skipped)')
    .argument('<file>')
    .option('--json', 'machine-readable report')
    .action(importCommand)
}
