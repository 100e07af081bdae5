import { useCallback, useMemo, useRef, useState } from 'react'
import { UPLOAD_PART_BASE64, type ImportReport, type RunFilter, type RunListItem } from '../../../shared/contract/history'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { saveBlob } from '../charts/export'
import { ErrorBox } from '../ErrorBox'
import { navigate, param } from '../nav'
import { ColumnChooser } from '../runs/ColumnChooser'
import { allColumnIds, loadView, saveView, type TableView } from '../runs/columns'
import { Compare } from '../runs/Compare'
import { FilterBar } from '../runs/FilterBar'
import { RunRecordPanel } from '../runs/RunRecord'
import { RunsTable } from '../runs/RunsTable'
import { RunView } from '../runs/RunView'
import { useRunsQuery } from '../runs/useRunsQuery'

const BackToRuns = ({ title }: { title: string }) => (
  <header className="page-head">
    <button className="subtle" onClick={() => navigate('runs')}>
      ← All runs
    </button>
    <h1>{title}</h1>
  </header>
)

/**
 * Points per series worth sending: four (first, lowest, highest, last) per device pixel column a
 * chart can span, at most 2 000 columns. A 1 400 px window asks for 5 600 instead of 8 000.
 */
const detailPoints = () => 4 * Math.max(500, Math.min(2000, Math.ceil(window.innerWidth * (window.devicePixelRatio || 1))))

function RunDetailPage({ id }: { id: number }) {
  const [maxPoints] = useState(detailPoints)
  const run = useCall('runs.detail', { id, maxPoints }, (e) => e.type === 'job')
  return (
    <div>
      <BackToRuns title={`Run #${id}${run.data ? ` — ${run.data.strategy}, ${run.data.workload}` : ''}`} />
      {run.error && <ErrorBox error={run.error} />}
      {run.data && (
        <>
          <RunRecordPanel run={run.data} />
          {Object.keys(run.data.thinned).length > 0 && (
            <p className="muted small">
              Long series are thinned for the charts (first, lowest, highest and last point per pixel column; every spike kept):{' '}
              {Object.entries(run.data.thinned)
                .map(([k, n]) => `${k} ${run.data!.samples[k].length} of ${n}`)
                .join(', ')}
              . Exports carry every sample.
            </p>
          )}
          <RunView run={run.data} />
        </>
      )}
    </div>
  )
}

const FILTER_KEY = 'miglab.runs.filter'
const loadFilter = (): RunFilter => {
  try {
    return (JSON.parse(sessionStorage.getItem(FILTER_KEY) ?? '{}') as RunFilter) ?? {}
  } catch {
    return {}
  }
}

const base64Of = (bytes: Uint8Array): string => {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** Imports a bundle or JSON export; a file larger than one message goes up in parts first. */
async function importFile(api: ReturnType<typeof useApi>, file: File): Promise<ImportReport> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  const part = (UPLOAD_PART_BASE64 / 4) * 3
  if (bytes.length <= part) return api.call('runs.import', { name: file.name, base64: base64Of(bytes) })
  let upload: string | undefined
  for (let i = 0; i < bytes.length; i += part) upload = (await api.call('runs.upload', { ...(upload ? { upload } : {}), base64: base64Of(bytes.subarray(i, i + part)) })).upload
  return api.call('runs.import', { name: file.name, upload })
}

function RunsList() {
  const api = useApi()
  const facets = useCall('runs.facets', {}, (e) => e.type === 'runs.changed' || (e.type === 'job' && e.job.status !== 'running'))
  const [filter, setFilterState] = useState<RunFilter>(loadFilter)
  const [view, setViewState] = useState<TableView>(loadView)
  const [choosing, setChoosing] = useState(false)
  const [selected, setSelected] = useState(new Set<number>())
  const [error, setError] = useState<ApiError>()
  const [report, setReport] = useState<ImportReport>()
  const [tag, setTag] = useState('')
  const fileInput = useRef<HTMLInputElement>(null)
  const q = useRunsQuery(filter, view.sort)
  const setFilter = useCallback((f: RunFilter) => {
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(f))
    setFilterState(f)
  }, [])
  const setView = (v: TableView) => {
    saveView(v)
    setViewState(v)
  }
  const all = useMemo(() => allColumnIds(facets.data?.metricKeys ?? [], facets.data?.paramKeys ?? []), [facets.data])
  const attempt = async (f: () => Promise<void>) => {
    try {
      setError(undefined)
      await f()
    } catch (err) {
      setError(asApiError(err))
    }
  }
  const toggle = (id: number) => {
    const next = new Set(selected)
    if (!next.delete(id)) next.add(id)
    setSelected(next)
  }
  const download = (format: 'csv' | 'json' | 'bundle') =>
    attempt(async () => {
      const out = await api.call('runs.export', { format, ...(Object.keys(filter).length ? { filter } : {}) })
      const body = out.encoding === 'base64' ? Uint8Array.from(atob(out.content), (c) => c.charCodeAt(0)) : out.content
      saveBlob(new Blob([body], { type: out.mime }), out.filename)
    })
  const importChosen = (file: File) =>
    attempt(async () => {
      setReport(await importFile(api, file))
    })
  const star = (r: RunListItem) => attempt(async () => void (await api.call('runs.star', { id: r.id, starred: !r.starred })))
  const addTag = () =>
    attempt(async () => {
      await api.call('runs.tag', { ids: [...selected], tag })
      setTag('')
    })
  const sortBy = (by: string) => setView({ ...view, sort: { by, desc: view.sort.by === by ? !view.sort.desc : true } })
  const compareIds = [...selected]

  return (
    <div>
      <header className="page-head">
        <h1>Runs</h1>
        <p className="muted">Every migration MigLab ran, kept in the local history — no lab needed to study it. Filter, tag, note, and compare strategies with statistics.</p>
      </header>
      {facets.data?.total === 0 && !report && <p className="empty">No runs yet. Migrations you launch appear here, with what they measured. You can also import a bundle from another MigLab.</p>}
      <FilterBar facets={facets.data} filter={filter} onChange={setFilter} />
      <div className="actions toolbar">
        <button className="primary" disabled={compareIds.length < 2} onClick={() => navigate('runs', { compare: compareIds.join(',') })}>
          Compare {compareIds.length || ''} selected
        </button>
        <button disabled={!q.total} onClick={() => navigate('runs', { group: JSON.stringify(filter) })}>
          Compare all {q.total ?? ''} shown
        </button>
        <input aria-label="Tag" placeholder="tag" value={tag} onChange={(e) => setTag(e.target.value)} style={{ width: '8rem' }} />
        <button disabled={!selected.size || !tag.trim()} onClick={() => void addTag()}>
          Tag {selected.size || ''} selected
        </button>
        <button onClick={() => setChoosing(!choosing)} aria-expanded={choosing}>
          Columns
        </button>
        <button onClick={() => void download('csv')}>Export CSV</button>
        <button onClick={() => void download('json')}>Export JSON</button>
        <button onClick={() => void download('bundle')}>Export bundle</button>
        <button onClick={() => fileInput.current?.click()}>Import…</button>
        <input
          ref={fileInput}
          type="file"
          aria-label="Import bundle"
          accept=".miglab,.gz,.json,application/gzip,application/json"
          hidden
          onChange={(e) => {
            const f = e.target.files?.[0]
            if (f) void importChosen(f)
            e.target.value = ''
          }}
        />
      </div>
      {error && <ErrorBox error={error} />}
      {q.error && <ErrorBox error={q.error} />}
      {report && (
        <div className="notice" role="status" aria-label="Import report">
          <span>
            Imported {report.imported.length} run{report.imported.length === 1 ? '' : 's'}, skipped {report.skipped.length}
            {report.skipped.length > 0 && ` (${[...new Set(report.skipped.map((s) => s.reason.replace(/#\d+/, '#…')))].join('; ')})`}.
          </span>
          <button className="subtle small" onClick={() => setReport(undefined)}>
            ✕
          </button>
        </div>
      )}
      {choosing && <ColumnChooser all={all} chosen={view.columns} onChange={(columns) => setView({ ...view, columns })} />}
      <p className="pager" data-testid="runs-count">
        {q.total === undefined ? 'Loading…' : `${q.total} run${q.total === 1 ? '' : 's'}${facets.data && q.total !== facets.data.total ? ` of ${facets.data.total}` : ''}`}
        {q.ms !== undefined && ` · ${Math.round(q.ms)} ms`}
      </p>
      {q.total !== undefined && q.total > 0 && (
        <RunsTable runs={q.runs} total={q.total} view={view} selected={selected} onToggle={toggle} onOpen={(id) => navigate('runs', { run: id })} onStar={(r) => void star(r)} onSort={sortBy} onNeedMore={q.more} />
      )}
    </div>
  )
}

export function RunsPage() {
  const runId = Number(param('run'))
  const compareIds = (param('compare') ?? '').split(',').map(Number).filter((n) => n > 0)
  const group = param('group')
  if (runId > 0) return <RunDetailPage id={runId} />
  if (compareIds.length || group) {
    let filter: RunFilter = { ids: compareIds }
    if (group) {
      try {
        filter = JSON.parse(group) as RunFilter
      } catch {
        filter = {}
      }
    }
    return (
      <div>
        <BackToRuns title={compareIds.length ? `Compare ${compareIds.length} runs` : 'Compare the filtered runs'} />
        <Compare filter={filter} />
      </div>
    )
  }
  return <RunsList />
}
