import { z } from 'zod'
import type { LogLine, RunStatus, RunSummary } from '../domain'
import { id } from './app'
import type { RunDetail } from './migration'

/**
 * Contract of the run history: filtered lists, tags, notes, stars, export and import, and grouped
 * comparisons. Everything here reads the local SQLite history only — it never needs a lab.
 */

export const runStatuses = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const
/** A metric or parameter key as stored (letters, digits, `_ . -`); it reaches SQL only as a bound JSON path. */
export const fieldKey = z.string().max(64).regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a metric or parameter key')
export const tagText = z.string().trim().min(1, 'a tag is required').max(64).regex(/^[^\u0000-\u001f]+$/, 'no control characters')
const isoDate = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'a date (ISO 8601)')

export const runFilter = z
  .object({
    strategies: z.array(z.string().max(64)).max(32).optional(),
    workloads: z.array(z.string().max(1100)).max(64).optional(),
    labIds: z.array(id).max(64).optional(),
    statuses: z.array(z.enum(runStatuses)).max(runStatuses.length).optional(),
    /** Runs carrying every one of these tags. */
    tags: z.array(tagText).max(16).optional(),
    starred: z.boolean().optional(),
    /** Started at or after / before (ISO 8601). */
    from: isoDate.optional(),
    to: isoDate.optional(),
    /** Inclusive ranges on stored metrics; a run without the metric does not match. */
    metrics: z.array(z.object({ key: fieldKey, min: z.number().optional(), max: z.number().optional() }).strict()).max(16).optional(),
    /** Words found (case-insensitive) in the VM, strategy, workload, tags or notes; every word must match. */
    text: z.string().max(200).optional(),
    ids: z.array(id).max(10_000).optional(),
  })
  .strict()
export type RunFilter = z.infer<typeof runFilter>

export const runSort = z
  .object({
    /** `started`, `id`, `vm`, `strategy`, `workload`, `status`, `duration`, `metric:<key>` or `param:<key>`. */
    by: z.string().max(80).regex(/^(started|id|vm|strategy|workload|status|duration|lab|(metric|param):[A-Za-z0-9_.-]{1,64})$/),
    desc: z.boolean().default(true),
  })
  .strict()
export type RunSort = z.infer<typeof runSort>

export const exportFormats = ['csv', 'json', 'bundle'] as const
export type ExportFormat = (typeof exportFormats)[number]

/** What may be grouped by: a run field or any stored parameter. */
export const groupField = z.string().max(80).regex(/^(strategy|workload|vm|lab|driver|status|workloadClass|param:[A-Za-z0-9_.-]{1,64})$/)
/** Base64 characters per upload part: well under the browser door's message limit. */
export const UPLOAD_PART_BASE64 = 640 * 1024
const uploadId = z.string().max(36).regex(/^[0-9a-f-]{36}$/)

export const historyInputs = {
  'runs.query': z
    .object({ filter: runFilter.default({}), sort: runSort.optional(), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(10_000).default(500) })
    .strict(),
  'runs.facets': z.object({}).strict(),
  'runs.record': z.object({ id }).strict(),
  /** A run for viewing: like runs.get, with each long series thinned to what a chart can show (spikes kept). */
  'runs.detail': z.object({ id, maxPoints: z.number().int().min(100).max(10_000_000).default(8000) }).strict(),
  'runs.tag': z.object({ ids: z.array(id).min(1).max(10_000), tag: tagText }).strict(),
  'runs.untag': z.object({ ids: z.array(id).min(1).max(10_000), tag: tagText }).strict(),
  'runs.star': z.object({ id, starred: z.boolean() }).strict(),
  'runs.note.add': z.object({ id, text: z.string().trim().min(1, 'a note needs text').max(20_000) }).strict(),
  'runs.note.delete': z.object({ noteId: id }).strict(),
  'runs.export': z.object({ format: z.enum(exportFormats), labId: id.optional(), filter: runFilter.optional() }).strict(),
  /** A bundle or JSON export: `base64` (a bundle is gzip), `text` (JSON), or an `upload` sent in parts. */
  'runs.import': z
    .object({
      name: z.string().max(255).default('bundle'),
      // One message each (every door's frame limit); a larger file goes up in parts as an `upload`.
      base64: z.string().max(UPLOAD_PART_BASE64).optional(),
      text: z.string().max(UPLOAD_PART_BASE64).optional(),
      upload: uploadId.optional(),
    })
    .strict()
    .refine((v) => [v.base64, v.text, v.upload].filter((x) => x !== undefined).length === 1, 'give the file as base64, as text or as an upload, one of them'),
  /** One part of a large file (a door's messages are limited in size); the first part opens an upload. */
  'runs.upload': z.object({ upload: uploadId.optional(), base64: z.string().min(1).max(UPLOAD_PART_BASE64) }).strict(),
  'runs.group': z
    .object({
      filter: runFilter.default({}),
      groupBy: z.array(groupField).min(1).max(4),
      /** The baseline group's key (values joined by ' · ', as in `GroupedComparison.groups[].key`); default the first group. */
      baseline: z.string().max(2000).optional(),
    })
    .strict(),
  'runs.thesis': z.object({ filter: runFilter.default({}), baseline: z.string().max(64).default('precopy') }).strict(),
} as const

/** A row of the history list: the summary plus what the history adds. */
export interface RunListItem extends RunSummary {
  uuid: string
  starred: boolean
  lab: string | null
  durationMs: number | null
  params: Record<string, unknown>
  notes: number
}

export interface RunNote {
  id: number
  text: string
  at: string
}

export interface Transcript {
  id: number
  title: string
  text: string
  at: string
}

/** What the history keeps about one run beyond its measurements. */
export interface RunRecord {
  id: number
  uuid: string
  starred: boolean
  lab: string | null
  tags: string[]
  notes: RunNote[]
  logs: LogLine[]
  transcripts: Transcript[]
}

export interface Facets {
  total: number
  strategies: string[]
  workloads: string[]
  labs: { id: number; name: string }[]
  statuses: RunStatus[]
  tags: string[]
  metricKeys: string[]
  paramKeys: string[]
  first: string | null
  last: string | null
}

export interface ImportReport {
  format: number
  imported: { uuid: string; id: number }[]
  skipped: { uuid: string; reason: string }[]
}

/** Mean and spread of one metric in one group. */
export interface GroupMetric {
  n: number
  mean: number
  sd: number
  /** Half-width of the 95 % CI of the mean (Student's t); NaN (null in JSON) below n = 2. */
  ci95: number
  /** Min, quartiles, max (box plots). */
  box?: { min: number; q1: number; median: number; q3: number; max: number }
  /** Against the baseline group: % change of the mean with its own 95 % interval (Welch); absent for the baseline. */
  change?: {
    pct: number
    lo: number
    hi: number
    df: number
    /** The interval excludes zero; when it does not, "not distinguishable at n = …". */
    distinguishable: boolean
    /** Runs per group that would separate the groups at the spread observed. */
    neededN?: number
  }
}

export interface MetricGroup {
  key: string
  values: Record<string, string>
  runIds: number[]
  /** The drivers (src/shared/metrics DriverKind) whose runs are in the group: what says why a figure is absent. */
  drivers: string[]
  metrics: Record<string, GroupMetric>
}

export interface GroupedComparison {
  groupBy: string[]
  baseline: string | null
  groups: MetricGroup[]
}

/** One line of the thesis view: a strategy against the baseline for one kind of guest. */
export interface ThesisRow {
  guest: 'idle' | 'busy'
  strategy: string
  n: number
  baselineN: number
  /** Metric key → change against the baseline (% with 95 % interval; negative = less). */
  change: Record<string, GroupMetric['change'] & { mean: number; baselineMean: number }>
}

export interface ThesisView {
  baseline: string
  /** The three downtimes and the data sent, in that order: the metric keys compared. */
  metrics: string[]
  rows: ThesisRow[]
}

export interface HistoryResults {
  'runs.query': { total: number; offset: number; runs: RunListItem[] }
  'runs.facets': Facets
  'runs.record': RunRecord
  /** `thinned`: series → how many points were stored, for series that were thinned. */
  'runs.detail': RunDetail & { thinned: Record<string, number> }
  'runs.tag': { changed: number }
  'runs.untag': { changed: number }
  'runs.star': { starred: boolean }
  'runs.note.add': RunNote
  'runs.note.delete': { deleted: boolean }
  /** `encoding` base64 for the gzip bundle; text otherwise. */
  'runs.export': { filename: string; mime: string; content: string; encoding?: 'base64' }
  'runs.import': ImportReport
  'runs.upload': { upload: string; bytes: number }
  'runs.group': GroupedComparison
  'runs.thesis': ThesisView
}
