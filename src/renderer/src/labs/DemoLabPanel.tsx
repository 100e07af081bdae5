import { useState } from 'react'
import type { JobInfo, Lab } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { JobProgress } from '../JobProgress'

/** Which demo lab a lab is: the Xen one runs its guests with xl, the namespace one with QEMU. */
export const demoKind = (lab: Pick<Lab, 'hypervisor'>): 'qemu' | 'xen' => (lab.hypervisor === 'xl' ? 'xen' : 'qemu')

/**
 * A demo lab on this machine: its state, node reachability, and build / repair / tear down as jobs.
 * `xen`: two Xen hosts (QEMU TCG guests) driven with xl instead of namespace nodes.
 */
export function DemoLabPanel({ hypervisor = 'qemu' }: { hypervisor?: 'qemu' | 'xen' }) {
  const api = useApi()
  const xen = hypervisor === 'xen'
  const which = xen ? { hypervisor } : {}
  const title = xen ? 'Two Xen hosts on this machine (xl)' : 'Demo lab on this machine'
  const status = useCall('demo.status', which, (e) => e.type === 'labs.changed' || (e.type === 'job' && e.job.kind.startsWith('demo') && e.job.status !== 'running'))
  const [job, setJob] = useState<JobInfo>()
  const [error, setError] = useState<ApiError>()
  const s = status.data

  const start = async (method: 'demo.up' | 'demo.down') => {
    if (method === 'demo.down' && !confirm(`Tear down the ${xen ? 'Xen ' : ''}demo lab? Its ${xen ? 'Xen hosts' : 'namespaces, SSH servers'} and guests stop; runs stay in the history.`)) return
    try {
      setError(undefined)
      setJob(await api.call(method, which))
    } catch (err) {
      setError(asApiError(err))
    }
  }

  return (
    <section className="card" aria-label={title}>
      <header className="row-between">
        <h2>{title}</h2>
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
      {xen && (
        <p className="muted small">
          Xen 4.17 hosts as QEMU TCG guests (dom0 image built once with debootstrap, ~2 min; ~5 GB RAM and both cores while up). Bringing them up ends with an
          integrity check: data received by each dom0 with a guest running must arrive intact.
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
          {s?.state === 'up' ? 'Check and repair' : s?.state === 'partial' ? 'Repair demo lab' : xen ? 'Create Xen lab' : 'Create demo lab'}
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
