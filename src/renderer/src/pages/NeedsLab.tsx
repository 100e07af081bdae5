import type { ReactNode } from 'react'
import type { Lab } from '../../../shared/domain'
import { useCall } from '../api'

/** A page that works on a lab's nodes: until one exists, it says what the page is for and what to do first. */
export function NeedsLab({ title, about, children }: { title: string; about: string; children?: (labs: Lab[]) => ReactNode }) {
  const labs = useCall('labs.list', {}, (e) => e.type === 'labs.changed')
  const withNodes = labs.data?.filter((l) => l.nodes.length > 0) ?? []
  return (
    <div>
      <header className="page-head">
        <h1>{title}</h1>
        <p className="muted">{about}</p>
      </header>
      {labs.data && withNodes.length === 0 && (
        <p className="empty">No lab with nodes yet. Create the demo lab or add your nodes on the Labs page first.</p>
      )}
      {withNodes.length > 0 && children?.(withNodes)}
    </div>
  )
}
