import { useState } from 'react'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { navigate, param } from '../nav'
import { Compare } from '../runs/Compare'
import { RunsTable } from '../runs/RunsTable'
import { RunView } from '../runs/RunView'
import type { ApiError } from '../../../shared/errors'

const BackToRuns = ({ title }: { title: string }) => (
  <header className="page-head">
    <button className="subtle" onClick={() => navigate('runs')}>
      ← All runs
    </button>
    <h1>{title}</h1>
  </header>
)

function RunDetailPage({ id }: { id: number }) {
  const run = useCall('runs.get', { id }, (e) => e.type === 'job')
  return (
    <div>
      <BackToRuns title={`Run #${id}${run.data ? ` — ${run.data.strategy}, ${run.data.workload}` : ''}`} />
      {run.error && <ErrorBox error={run.error} />}
      {run.data && <RunView run={run.data} />}
    </div>
  )
}

export function RunsPage() {
  const api = useApi()
  const runs = useCall('runs.list', {}, (e) => e.type === 'job')
  const [selected, setSelected] = useState(new Set<number>())
  const [error, setError] = useState<ApiError>()
  const runId = Number(param('run'))
  const compareIds = (param('compare') ?? '').split(',').map(Number).filter((n) => n > 0)
  if (runId > 0) return <RunDetailPage id={runId} />
  if (compareIds.length) {
    return (
      <div>
        <BackToRuns title={`Compare ${compareIds.length} runs`} />
        <Compare ids={compareIds} />
      </div>
    )
  }

  const toggle = (id: number) => {
    const next = new Set(selected)
    if (!next.delete(id)) next.add(id)
    setSelected(next)
  }
  const download = async (format: 'csv' | 'json') => {
    try {
      const out = await api.call('runs.export', { format })
      const url = URL.createObjectURL(new Blob([out.content], { type: out.mime }))
      const a = Object.assign(document.createElement('a'), { href: url, download: out.filename })
      a.click()
      URL.revokeObjectURL(url)
    } catch (err) {
      setError(asApiError(err))
    }
  }

  return (
    <div>
      <header className="page-head">
        <h1>Runs</h1>
        <p className="muted">Every migration MigLab ran, kept in the local history. Select runs to compare strategies with statistics.</p>
      </header>
      {runs.error && <ErrorBox error={runs.error} />}
      {error && <ErrorBox error={error} />}
      {runs.data?.length === 0 && <p className="empty">No runs yet. Migrations you launch appear here, with what they measured.</p>}
      {!!runs.data?.length && (
        <>
          <div className="actions toolbar">
            <button className="primary" disabled={selected.size < 2} onClick={() => navigate('runs', { compare: [...selected].join(',') })}>
              Compare {selected.size || ''} selected
            </button>
            <button onClick={() => void download('csv')}>Export CSV</button>
            <button onClick={() => void download('json')}>Export JSON</button>
          </div>
          <RunsTable runs={runs.data} selected={selected} onToggle={toggle} onOpen={(id) => navigate('runs', { run: id })} />
        </>
      )}
    </div>
  )
}
