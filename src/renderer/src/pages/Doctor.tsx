import { useCall } from '../api'
import { ErrorBox } from '../ErrorBox'

const MARK = { ok: '✔', warn: '!', missing: '✘' } as const

/** What this machine offers: shown on first run so people know what will work before they click. */
export function Doctor() {
  const checks = useCall('doctor.run', {})
  if (checks.error) return <ErrorBox error={checks.error} />
  if (!checks.data) return <p className="muted">Checking this machine…</p>
  return (
    <ul className="checklist" aria-label="This machine">
      {checks.data.map((c) => (
        <li key={c.id} className={`check ${c.status}`}>
          <span className="mark" aria-label={c.status}>
            {MARK[c.status]}
          </span>
          <span className="label">{c.label}</span>
          <span className="found">{c.found}</span>
          {c.hint && c.status !== 'ok' && <span className="hint">{c.hint}</span>}
        </li>
      ))}
    </ul>
  )
}
