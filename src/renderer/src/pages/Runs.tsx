import { useCall } from '../api'
import { ErrorBox } from '../ErrorBox'

export function RunsPage() {
  const runs = useCall('runs.list', {}, (e) => e.type === 'job')
  return (
    <div>
      <header className="page-head">
        <h1>Runs</h1>
        <p className="muted">Every migration MigLab ran, kept in the local history for review, comparison and export.</p>
      </header>
      {runs.error && <ErrorBox error={runs.error} />}
      {runs.data?.length === 0 && <p className="empty">No runs yet. Migrations you launch appear here, with what they measured.</p>}
      {!!runs.data?.length && (
        <table className="table">
          <thead>
            <tr>
              <th>#</th>
              <th>Started</th>
              <th>VM</th>
              <th>Strategy</th>
              <th>Workload</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{new Date(r.startedAt).toLocaleString()}</td>
                <td>{r.vm}</td>
                <td>{r.strategy}</td>
                <td>{r.workload}</td>
                <td>
                  <span className={`badge ${r.status}`}>{r.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
