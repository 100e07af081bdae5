import type { Lab, LabNode } from '../../../shared/domain'
import { navigate } from '../nav'
import { AddNodeForm } from './AddNodeForm'
import { DemoLabPanel } from './DemoLabPanel'
import { NodeRow } from './NodeRow'

const SETUP = [
  { id: 'hypervisor', label: 'Hypervisor', about: 'XCP-ng/XenServer pool or QEMU/KVM on every node' },
  { id: 'storage', label: 'Shared storage', about: 'NFS export on one node, mounted by all' },
  { id: 'cluster', label: 'MPI/DSM cluster', about: 'OpenMPI across the nodes, the DSM layer on top' },
]

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
      <ul className="checklist setup" aria-label="Setup checklist">
        {SETUP.map((s) => (
          <li key={s.id} className="check warn">
            <span className="mark">○</span>
            <span className="label">{s.label}</span>
            <span className="found">{s.about} — not set up yet (the Setup wizards fill this in)</span>
          </li>
        ))}
      </ul>
      {lab.kind === 'real' && <AddNodeForm labId={lab.id} onAdded={onChanged} />}
    </div>
  )
}
