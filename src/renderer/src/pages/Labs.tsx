import { useState, type FormEvent } from 'react'
import { HYPERVISOR_NAMES, HYPERVISOR_NOTES, hypervisorKinds, type HypervisorKind } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { DemoLabPanel, demoKind } from '../labs/DemoLabPanel'
import { LabDetail } from '../labs/LabDetail'
import { navigate, param } from '../nav'

export function LabsPage() {
  const api = useApi()
  const labs = useCall('labs.list', {}, (e) => e.type === 'labs.changed')
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [hypervisor, setHypervisor] = useState<HypervisorKind>('qemu')
  const [error, setError] = useState<ApiError>()
  const [busy, setBusy] = useState(false)

  const create = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    try {
      await api.call('labs.create', { name, description, hypervisor })
      setName('')
      setDescription('')
      setError(undefined)
    } catch (err) {
      setError(asApiError(err))
    } finally {
      setBusy(false)
    }
  }

  const remove = async (id: number, labName: string) => {
    if (!confirm(`Remove the lab "${labName}" and its nodes from MigLab? Runs stay in the history.`)) return
    try {
      await api.call('labs.remove', { id })
    } catch (err) {
      setError(asApiError(err))
    }
  }

  const selected = labs.data?.find((l) => l.id === Number(param('lab')))
  if (selected) return <LabDetail lab={selected} onChanged={labs.reload} />

  return (
    <div>
      <header className="page-head">
        <h1>Labs</h1>
        <p className="muted">A lab is a set of nodes MigLab reaches over SSH: your testbed, or the demo lab on this machine.</p>
      </header>
      {labs.error && <ErrorBox error={labs.error} />}
      <section className="grid" aria-label="Labs">
        {labs.data?.length === 0 && <p className="empty">No labs yet. Add one below.</p>}
        {labs.data?.map((lab) => (
          <article key={lab.id} className="card lab" data-testid="lab-card">
            <header>
              <h2>
                <a href={`?page=labs&lab=${lab.id}${location.hash}`} onClick={(e) => (e.preventDefault(), navigate('labs', { lab: lab.id }))}>
                  {lab.name}
                </a>
              </h2>
              <span className={`badge ${lab.kind}`}>
                {lab.kind === 'demo' ? 'demo lab' : 'lab'} · {HYPERVISOR_NAMES[lab.hypervisor]}
              </span>
            </header>
            {lab.description && <p>{lab.description}</p>}
            <p className="muted small">
              {lab.nodes.length === 0 ? 'No nodes yet.' : `${lab.nodes.length} node${lab.nodes.length > 1 ? 's' : ''}: ${lab.nodes.map((n) => n.name).join(', ')}`}
            </p>
            <footer>
              <button className="danger subtle" onClick={() => void remove(lab.id, lab.name)}>
                Remove
              </button>
            </footer>
          </article>
        ))}
      </section>
      {labs.data && !labs.data.some((l) => l.kind === 'demo' && demoKind(l) === 'qemu') && <DemoLabPanel />}
      {labs.data && !labs.data.some((l) => l.kind === 'demo' && demoKind(l) === 'xen') && <DemoLabPanel hypervisor="xen" />}
      <form className="card form" onSubmit={(e) => void create(e)} aria-label="Add a lab">
        <h2>Add a lab</h2>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. concordia-testbed" required maxLength={64} />
        </label>
        <label>
          Description
          <textarea value={description} onChange={(e) => setDescription(e.target.value)} rows={2} placeholder="Two XenServer hosts, NFS on node B…" />
        </label>
        <label>
          Hypervisor
          <select value={hypervisor} onChange={(e) => setHypervisor(e.target.value as HypervisorKind)}>
            {hypervisorKinds.map((k) => (
              <option key={k} value={k}>
                {HYPERVISOR_NAMES[k]}
              </option>
            ))}
          </select>
          <span className="muted small">{HYPERVISOR_NOTES[hypervisor]}</span>
        </label>
        {error && <ErrorBox error={error} fields={{ name: 'Name', description: 'Description', hypervisor: 'Hypervisor' }} />}
        <div className="actions">
          <button className="primary" type="submit" disabled={busy || !name.trim()}>
            Add lab
          </button>
        </div>
      </form>
    </div>
  )
}
