import { useState } from 'react'
import type { JobInfo } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { JobProgress } from '../JobProgress'

/** The demo lab on this machine: its state, node reachability, and build / repair / tear down as jobs. */
export function DemoLabPanel() {
  const api = useApi()
  const status = useCall('demo.status', {}, (e) => e.type === 'labs.changed' || (e.type === 'job' && e.job.kind.startsWith('demo') && e.job.status !== 'running'))
  const [job, setJob] = useState<JobInfo>()
  const [error, setError] = useState<ApiError>()
  const s = status.data

  const start = async (method: 'demo.up' | 'demo.down') => {
    if (method === 'demo.down' && !confirm('Tear down the demo lab? Its namespaces, SSH servers and guests stop; runs stay in the history.')) return
    try {
      setError(undefined)
      setJob(await api.call(method, {}))
    } catch (err) {
      setError(asApiError(err))
    }
  }

  return (
    <section className="card" aria-label="Demo lab on this machine">
      <header className="row-between">
        <h2>Demo lab on this machine</h2>
        {s && (
          <span className={`badge ${s.state === 'up' ? 'succeeded' : s.state === 'partial' ? 'cancelled' : ''}`} data-testid="demo-state">
            {s.state}
          </span>
        )}
      </header>
      {s && (
        <p className="muted small">
          Subnet {s.subnet} (never leaves this machine) · management {s.managementIp} · guest {s.guestIp}
          {s.accel && ` · guests run with ${s.accel.toUpperCase()}`}
        </p>
      )}
      {s && s.nodes.length > 0 && (
        <table className="table compact">
          <thead>
            <tr>
              <th>Node</th>
              <th>Address</th>
              <th>Namespace</th>
              <th>sshd</th>
              <th>Reachable</th>
            </tr>
          </thead>
          <tbody>
            {s.nodes.map((n) => (
              <tr key={n.name} data-testid="demo-node">
                <td>{n.name}</td>
                <td>{n.ip}</td>
                <td>{n.namespace}</td>
                <td>{n.sshdRunning ? '✔ running' : '✘ stopped'}</td>
                <td data-testid="reachable">{n.reachable ? '✔ reachable' : '✘ unreachable'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s && s.problems.length > 0 && s.state !== 'down' && (
        <ul className="problems">
          {s.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {status.error && <ErrorBox error={status.error} />}
      {error && <ErrorBox error={error} />}
      {job && <JobProgress key={job.id} job={job} />}
      <div className="actions">
        <button className="primary" onClick={() => void start('demo.up')} disabled={job?.status === 'running'}>
          {s?.state === 'up' ? 'Check and repair' : s?.state === 'partial' ? 'Repair demo lab' : 'Create demo lab'}
        </button>
        {s && s.state !== 'down' && (
          <button className="danger" onClick={() => void start('demo.down')} disabled={job?.status === 'running'}>
            Tear down
          </button>
        )}
      </div>
    </section>
  )
}
