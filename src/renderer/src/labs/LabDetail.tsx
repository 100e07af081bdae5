import { useCallback, useState } from 'react'
import type { WizardState, WizardStatus } from '../../../shared/contract/setup'
import type { JobInfo, Lab, LabNode } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import type { ApiEvent } from '../../../shared/events'
import { asApiError, useApi, useCall, useEvents } from '../api'
import { navigate } from '../nav'
import { AddNodeForm } from './AddNodeForm'
import { DemoLabPanel, demoKind } from './DemoLabPanel'
import { NodeRow } from './NodeRow'

const STATE: Record<WizardState, { mark: string; cls: string; label: string }> = {
  not_started: { mark: '○', cls: 'warn', label: 'not started' },
  partial: { mark: '◐', cls: 'warn', label: 'partial' },
  done: { mark: '✓', cls: 'ok', label: 'done' },
  drifted: { mark: '!', cls: 'missing', label: 'drifted: a step once done is not any more' },
}

/** Each wizard's state from its stored step results; "Check again" re-runs only its checks, the Setup page the rest. */
function SetupChecklist({ lab }: { lab: Lab }) {
  const list = useCall('setup.list', { labId: lab.id }, (e) => e.type === 'setup.changed' && e.labId === lab.id)
  return (
    <ul className="checklist setup" aria-label="Setup checklist">
      {(list.data ?? []).map((w) => (
        <WizardRow key={w.id} lab={lab} wizard={w} />
      ))}
    </ul>
  )
}

function WizardRow({ lab, wizard: w }: { lab: Lab; wizard: WizardStatus }) {
  const api = useApi()
  const [job, setJob] = useState<JobInfo>()
  const [error, setError] = useState<ApiError>()
  useEvents(
    useCallback(
      (e: ApiEvent) => {
        if (e.type === 'job' && e.job.id === job?.id) {
          setJob(e.job)
          if (e.job.status === 'failed' && e.job.error) setError(e.job.error)
        }
      },
      [job?.id],
    ),
  )
  const checking = job?.status === 'running'
  const checkAgain = async () => {
    setError(undefined)
    try {
      setJob(await api.call('setup.check', { labId: lab.id, wizard: w.id }))
    } catch (err) {
      setError(asApiError(err))
    }
  }
  return (
    <li className={`check ${STATE[w.state].cls}`} data-wizard={w.id}>
      <span className="mark">{STATE[w.state].mark}</span>
      <span className="label">
        {w.title}{' '}
        <button className="subtle" disabled={checking || lab.nodes.length === 0} onClick={() => void checkAgain()}>
          {checking ? 'Checking…' : 'Check again'}
        </button>{' '}
        <button className="subtle" onClick={() => navigate('setup', { lab: lab.id })}>
          Open in Setup
        </button>
      </span>
      <span className="found">
        <span aria-label={`${w.title} state`}>{STATE[w.state].label}</span> — {w.about}
        {error && <span className="fix"> Check failed: {error.message}</span>}
      </span>
    </li>
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
      {lab.kind === 'demo' && <DemoLabPanel hypervisor={demoKind(lab)} />}
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
