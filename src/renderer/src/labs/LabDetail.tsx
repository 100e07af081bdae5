import type { WizardState } from '../../../shared/contract/setup'
import type { Lab, LabNode } from '../../../shared/domain'
import { useCall } from '../api'
import { navigate } from '../nav'
import { AddNodeForm } from './AddNodeForm'
import { DemoLabPanel } from './DemoLabPanel'
import { NodeRow } from './NodeRow'

const STATE: Record<WizardState, { mark: string; cls: string; label: string }> = {
  not_started: { mark: '○', cls: 'warn', label: 'not started' },
  partial: { mark: '◐', cls: 'warn', label: 'partial' },
  done: { mark: '✓', cls: 'ok', label: 'done' },
  drifted: { mark: '!', cls: 'missing', label: 'drifted: a step once done is not any more' },
}

/** Each wizard's state from its stored step results; the Setup page runs them. */
function SetupChecklist({ lab }: { lab: Lab }) {
  const list = useCall('setup.list', { labId: lab.id }, (e) => e.type === 'setup.changed' && e.labId === lab.id)
  return (
    <ul className="checklist setup" aria-label="Setup checklist">
      {(list.data ?? []).map((w) => (
        <li key={w.id} className={`check ${STATE[w.state].cls}`}>
          <span className="mark">{STATE[w.state].mark}</span>
          <span className="label">
            {w.title}{' '}
            <button className="subtle" onClick={() => navigate('setup', { lab: lab.id })}>
              Open in Setup
            </button>
          </span>
          <span className="found">
            {STATE[w.state].label} — {w.about}
          </span>
        </li>
      ))}
    </ul>
  )
}

/** One lab: its nodes (connect, host keys, preflight, terminals) and the setup checklist. */
export function LabDetail({ lab, onChanged }: { lab: Lab; onChanged: () => void }) {
  const openTerminal = (node: LabNode) => navigate('terminals', { node: node.id })
  return (
    <div className="lab-detail">
      <header className="page-head">
        <button className="subtle" onClick={() => navigate('labs')}>
          ← All labs
        </button>
        <h1>{lab.name}</h1>
        {lab.description && <p className="muted">{lab.description}</p>}
      </header>
      {lab.kind === 'demo' && <DemoLabPanel />}
      <h2 className="section">Nodes</h2>
      {lab.nodes.length === 0 && <p className="empty">No nodes yet. Add the lab's machines below; MigLab reaches them over SSH.</p>}
      <div className="grid">
        {lab.nodes.map((n) => (
          <NodeRow key={n.id} node={n} onTerminal={openTerminal} />
        ))}
      </div>
      <h2 className="section">Setup checklist</h2>
      <SetupChecklist lab={lab} />
      {lab.kind === 'real' && <AddNodeForm labId={lab.id} onAdded={onChanged} />}
    </div>
  )
}
