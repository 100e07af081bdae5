import { useState } from 'react'
import type { RunDetail } from '../../../shared/contract/migration'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { navigate } from '../nav'

/** Nested objects as dotted keys, so every parameter and environment fact gets its own line. */
export function flatten(o: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(o).flatMap(([k, v]): [string, string][] =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, typeof v === 'string' ? v : JSON.stringify(v)]],
  )
}

const Kv = ({ label, data }: { label: string; data: Record<string, unknown> }) => {
  const rows = flatten(data)
  return (
    <section aria-label={label}>
      <h3>{label}</h3>
      {rows.length === 0 ? (
        <p className="muted">None recorded.</p>
      ) : (
        <dl className="kv">
          {rows.map(([k, v]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  )
}

/** What the history keeps about a run beyond its measurements: star, tags, notes, parameters, environment, log, transcripts. */
export function RunRecordPanel({ run }: { run: RunDetail }) {
  const api = useApi()
  const record = useCall('runs.record', { id: run.id }, (e) => e.type === 'runs.changed')
  const [tag, setTag] = useState('')
  const [note, setNote] = useState('')
  const [error, setError] = useState<ApiError>()
  const act = (f: () => Promise<unknown>) => async () => {
    try {
      setError(undefined)
      await f()
      record.reload()
    } catch (err) {
      setError(asApiError(err))
    }
  }
  const r = record.data
  return (
    <div className="run-record" data-testid="run-record">
      {record.error && <ErrorBox error={record.error} />}
      {error && <ErrorBox error={error} />}
      <div className="actions toolbar">
        <button className={`star ${r?.starred ? 'on' : ''}`} aria-pressed={!!r?.starred} aria-label={r?.starred ? 'Unstar this run' : 'Star this run'} onClick={act(() => api.call('runs.star', { id: run.id, starred: !r?.starred }))}>
          {r?.starred ? '★' : '☆'}
        </button>
        <span aria-label="Tags">
          {r?.tags.map((t) => (
            <span key={t} className="tag">
              {t}
              <button aria-label={`Remove tag ${t}`} onClick={act(() => api.call('runs.untag', { ids: [run.id], tag: t }))}>
                ✕
              </button>
            </span>
          ))}
        </span>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            if (tag.trim()) void act(async () => (await api.call('runs.tag', { ids: [run.id], tag }), setTag('')))()
          }}
        >
          <input aria-label="New tag" placeholder="add a tag" value={tag} onChange={(e) => setTag(e.target.value)} style={{ width: '9rem' }} />
        </form>
        <button className="primary" onClick={() => navigate('migrate', { again: run.id })} disabled={run.labId === null} title={run.labId === null ? 'This run belongs to no lab on this machine.' : undefined}>
          Run again with these settings
        </button>
        {r && <span className="muted small">uuid {r.uuid}</span>}
      </div>
      <section aria-label="Notes" className="notes">
        {r?.notes.map((n) => (
          <div key={n.id} className="note" data-testid="note">
            <span className="muted">{new Date(n.at).toLocaleString()} </span>
            <button className="subtle small" aria-label="Delete note" onClick={act(() => api.call('runs.note.delete', { noteId: n.id }))}>
              ✕
            </button>
            <div>{n.text}</div>
          </div>
        ))}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            if (note.trim()) void act(async () => (await api.call('runs.note.add', { id: run.id, text: note }), setNote('')))()
          }}
        >
          <textarea aria-label="New note" placeholder="A note on this run…" rows={2} value={note} onChange={(e) => setNote(e.target.value)} style={{ flex: 1 }} />
          <button type="submit" disabled={!note.trim()}>
            Add note
          </button>
        </form>
      </section>
      <details open>
        <summary>Parameters and environment</summary>
        <div className="chart-grid">
          <Kv label="Parameters" data={run.params} />
          <Kv label="Environment" data={run.environment} />
        </div>
      </details>
      <details>
        <summary>Log ({r?.logs.length ?? 0} lines)</summary>
        <pre className="job-log" aria-label="Run log">
          {r?.logs.map((l) => `${l.at.slice(11, 23)} ${l.level.padEnd(5)} ${l.message}`).join('\n') || 'No log lines were kept for this run.'}
        </pre>
      </details>
      <details>
        <summary>Terminal transcripts ({r?.transcripts.length ?? 0})</summary>
        {r?.transcripts.length === 0 && <p className="muted">No terminal transcripts are attached to this run.</p>}
        {r?.transcripts.map((t) => (
          <div key={t.id}>
            <h4>
              {t.title} <span className="muted small">{new Date(t.at).toLocaleString()}</span>
            </h4>
            <pre className="job-log">{t.text}</pre>
          </div>
        ))}
      </details>
    </div>
  )
}
