import { columnFor } from './columns'

/** Which columns show, in which order: parameters and metrics included. */
export function ColumnChooser({ all, chosen, onChange }: { all: string[]; chosen: string[]; onChange: (columns: string[]) => void }) {
  const rest = all.filter((c) => !chosen.includes(c))
  const move = (i: number, by: number) => {
    const next = [...chosen]
    const [c] = next.splice(i, 1)
    next.splice(Math.max(0, Math.min(next.length, i + by)), 0, c)
    onChange(next)
  }
  const label = (id: string) => `${id.startsWith('param:') ? 'parameter · ' : id.startsWith('metric:') ? 'metric · ' : ''}${columnFor(id)?.label ?? id}`
  return (
    <div className="chooser" aria-label="Columns">
      <ul>
        {chosen.map((id, i) => (
          <li key={id}>
            <input type="checkbox" checked aria-label={`Hide ${label(id)}`} onChange={() => onChange(chosen.filter((c) => c !== id))} />
            <span>{label(id)}</span>
            <button className="subtle small" aria-label={`Move ${label(id)} left`} disabled={i === 0} onClick={() => move(i, -1)}>
              ↑
            </button>
            <button className="subtle small" aria-label={`Move ${label(id)} right`} disabled={i === chosen.length - 1} onClick={() => move(i, 1)}>
              ↓
            </button>
          </li>
        ))}
        {rest.map((id) => (
          <li key={id}>
            <input type="checkbox" checked={false} aria-label={`Show ${label(id)}`} onChange={() => onChange([...chosen, id])} />
            <span className="muted">{label(id)}</span>
          </li>
        ))}
      </ul>
    </div>
  )
}
