import { useEffect, useState } from 'react'
import { useCall } from './api'
import { navigate, param } from './nav'
import { FirstRun } from './pages/FirstRun'
import { LabsPage } from './pages/Labs'
import { MigratePage } from './pages/Migrate'
import { RunsPage } from './pages/Runs'
import { SetupPage } from './pages/Setup'
import { TerminalsPage } from './pages/Terminals'

const PAGES = [
  { id: 'labs', label: 'Labs', icon: '▦', Page: LabsPage },
  { id: 'setup', label: 'Setup', icon: '✓', Page: SetupPage },
  { id: 'migrate', label: 'Migrate', icon: '⇄', Page: MigratePage },
  { id: 'runs', label: 'Runs', icon: '≡', Page: RunsPage },
  { id: 'terminals', label: 'Terminals', icon: '›_', Page: TerminalsPage },
] as const
type PageId = (typeof PAGES)[number]['id']

/** Follows the URL, so reloads and links keep the page; `navigate` changes it. */
function usePage(): [PageId | undefined, (p: PageId) => void] {
  const read = () => (param('page') as PageId | null) ?? undefined
  const [page, setPage] = useState(read)
  // A new key per navigation remounts the page, so it rereads its URL parameters.
  const [, setVisit] = useState(0)
  useEffect(() => {
    const onPop = () => {
      setPage(read())
      setVisit((v) => v + 1)
    }
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])
  return [page, (p) => navigate(p)]
}

export function App() {
  const labs = useCall('labs.list', {}, (e) => e.type === 'labs.changed')
  const info = useCall('app.info', {})
  const [page, go] = usePage()

  if (!labs.data) return <div className="loading">Loading MigLab…</div>
  const firstRun = labs.data.length === 0 && !page
  const current = PAGES.find((p) => p.id === (page ?? 'labs')) ?? PAGES[0]

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <span className="logo" aria-hidden>
            ⇄
          </span>
          MigLab
        </div>
        {PAGES.map((p) => (
          <button key={p.id} className={!firstRun && current.id === p.id ? 'nav active' : 'nav'} onClick={() => go(p.id)} aria-current={!firstRun && current.id === p.id ? 'page' : undefined}>
            <span className="icon" aria-hidden>
              {p.icon}
            </span>
            {p.label}
          </button>
        ))}
        <div className="sidebar-foot">
          {info.data && (
            <span title={info.data.dbPath}>
              v{info.data.version} · {info.data.door === 'desktop' ? 'desktop' : 'browser mode'}
            </span>
          )}
        </div>
      </nav>
      <main className="page">{firstRun ? <FirstRun onOpenLabs={() => go('labs')} /> : <current.Page key={location.search} />}</main>
    </div>
  )
}
