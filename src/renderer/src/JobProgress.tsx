import { useCallback, useState } from 'react'
import type { JobInfo } from '../../shared/domain'
import type { ApiEvent } from '../../shared/events'
import { useApi, useEvents } from './api'
import { ErrorBox } from './ErrorBox'

/** Follows one job live: a progress bar with the current step, the log lines, and Cancel while it runs. */
export function JobProgress({ job: initial, onDone }: { job: JobInfo; onDone?: (job: JobInfo) => void }) {
  const api = useApi()
  const [job, setJob] = useState(initial)
  const [lines, setLines] = useState<string[]>([])
  useEvents(
    useCallback(
      (e: ApiEvent) => {
        if (e.type === 'job' && e.job.id === initial.id) {
          setJob(e.job)
          if (e.job.status !== 'running') onDone?.(e.job)
        }
        if (e.type === 'log' && e.line.jobId === initial.id) setLines((l) => [...l.slice(-199), e.line.message])
      },
      [initial.id, onDone],
    ),
  )
  const percent = job.progress === null ? undefined : Math.round(job.progress * 100)
  return (
    <div className="job" aria-label={job.title}>
      <div className="job-head">
        <strong>{job.title}</strong>
        <span className={`badge ${job.status}`}>{job.status}</span>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={job.step}
      >
        <div className={job.progress === null ? 'fill indeterminate' : 'fill'} style={{ width: `${percent ?? 100}%` }} />
      </div>
      <div className="job-step">
        <span>{job.step}</span>
        {percent !== undefined && <span className="muted">{percent} %</span>}
      </div>
      {lines.length > 0 && <pre className="job-log">{lines.join('\n')}</pre>}
      {job.error && job.status !== 'cancelled' && <ErrorBox error={job.error} />}
      {job.status === 'running' && (
        <div className="actions">
          <button onClick={() => void api.call('jobs.cancel', { id: job.id })}>Cancel</button>
        </div>
      )}
    </div>
  )
}
