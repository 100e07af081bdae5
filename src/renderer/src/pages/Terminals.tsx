import { useState } from 'react'
import type { Lab } from '../../../shared/domain'
import { TerminalView } from '../terminal/TerminalView'
import { NeedsLab } from './NeedsLab'

interface Tab {
  key: number
  nodeId: number
  label: string
  /** A demo-lab node: a network namespace on this machine, not a VM. */
  demo: boolean
}

function TerminalTabs({ labs }: { labs: Lab[] }) {
  const nodes = labs.flatMap((l) => l.nodes.map((n) => ({ ...n, label: `${l.name}/${n.name}`, demo: l.kind === 'demo' })))
  const [tabs, setTabs] = useState<Tab[]>([])
  const [active, setActive] = useState<number>()
  const [nodeId, setNodeId] = useState(nodes[0]?.id)
  const [next, setNext] = useState(1)

  const open = () => {
    const node = nodes.find((n) => n.id === nodeId)
    if (!node) return
    const count = tabs.filter((t) => t.nodeId === node.id).length
    const tab = { key: next, nodeId: node.id, label: count ? `${node.label} (${count + 1})` : node.label, demo: node.demo }
    setTabs([...tabs, tab])
    setActive(tab.key)
    setNext(next + 1)
  }
  const close = (key: number) => {
    const rest = tabs.filter((t) => t.key !== key)
    setTabs(rest)
    if (active === key) setActive(rest.at(-1)?.key)
  }

  return (
    <div>
      <div className="tabs" role="tablist" aria-label="Terminals">
        {tabs.map((t) => (
          <button key={t.key} role="tab" aria-selected={t.key === active} className={t.key === active ? 'tab active' : 'tab'} onClick={() => setActive(t.key)}>
            {t.label}
            <span className="close" role="button" aria-label={`Close ${t.label}`} onClick={(e) => (e.stopPropagation(), close(t.key))}>
              ×
            </span>
          </button>
        ))}
        <select aria-label="Node" value={nodeId} onChange={(e) => setNodeId(Number(e.target.value))}>
          {nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.label}
            </option>
          ))}
        </select>
        <button className="primary" onClick={open}>
          New terminal
        </button>
      </div>
      {tabs.length === 0 && <p className="empty">Pick a node and open a terminal. Several per node are fine.</p>}
      {tabs.map((t) => (
        <TerminalView key={t.key} nodeId={t.nodeId} nodeName={t.label} active={t.key === active} demoNode={t.demo} />
      ))}
    </div>
  )
}

export const TerminalsPage = () => (
  <NeedsLab title="Terminals" about="Shells on every lab node, for debugging: search, copy/paste (Ctrl+Shift+C/V), clickable links, transcripts saved to the history.">
    {(labs) => <TerminalTabs labs={labs} />}
  </NeedsLab>
)
