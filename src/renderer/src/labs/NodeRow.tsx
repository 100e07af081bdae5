import { useState } from 'react'
import type { LabNode } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi } from '../api'
import { ErrorBox } from '../ErrorBox'
import { NODE_FIELDS } from './node-fields'
import { HostKeyPrompt, hostKeyQuestion, type HostKeyQuestion } from './HostKeyPrompt'

const MARK = { pass: '✔', warn: '!', fail: '✘' } as const

/** A node: connect (answering host-key questions), run preflight, see its checklist. */
export function NodeRow({ node, onTerminal }: { node: LabNode; onTerminal: (node: LabNode) => void }) {
  const api = useApi()
  const [state, setState] = useState<'idle' | 'connecting' | 'connected' | 'checking'>('idle')
  const [fingerprint, setFingerprint] = useState<string>()
  const [question, setQuestion] = useState<HostKeyQuestion>()
  const [error, setError] = useState<ApiError>()
  const [preflight, setPreflight] = useState(node.preflight)

  const connect = async () => {
    setState('connecting')
    setError(undefined)
    try {
      const c = await api.call('nodes.connect', { nodeId: node.id })
      setFingerprint(c.fingerprint)
      setState('connected')
      return true
    } catch (err) {
      const e = asApiError(err)
      const q = hostKeyQuestion(e)
      if (q) setQuestion(q)
      else setError(e)
      setState('idle')
      return false
    }
  }

  const answer = async (q: HostKeyQuestion) => {
    setQuestion(undefined)
    try {
      await api.call(q.kind === 'unknown' ? 'hostKeys.trust' : 'hostKeys.replace', { host: q.host, port: q.port, fingerprint: q.fingerprint })
      await connect()
    } catch (err) {
      setError(asApiError(err))
    }
  }

  const runPreflight = async () => {
    if (state !== 'connected' && !(await connect())) return
    setState('checking')
    try {
      const report = await api.call('nodes.preflight', { nodeId: node.id })
      setPreflight({ at: report.at, checks: report.checks })
    } catch (err) {
      setError(asApiError(err))
    } finally {
      setState('connected')
    }
  }

  return (
    <article className="card node" data-testid="node" aria-label={`Node ${node.name}`}>
      <header>
        <h3>{node.name}</h3>
        <span className="muted small">
          {node.user}@{node.host}
          {node.port !== 22 && `:${node.port}`} · {node.auth.kind}
          {node.jumpHost && ` · via ${node.jumpHost}`}
        </span>
        <span className={`badge ${state === 'connected' || state === 'checking' ? 'succeeded' : ''}`} data-testid="node-state">
          {state}
        </span>
      </header>
      {fingerprint && <p className="muted small">Host key {fingerprint}</p>}
      <div className="actions">
        <button onClick={() => void connect()} disabled={state === 'connecting' || state === 'checking'}>
          Connect
        </button>
        <button onClick={() => void runPreflight()} disabled={state === 'connecting' || state === 'checking'}>
          {state === 'checking' ? 'Checking…' : 'Preflight'}
        </button>
        <button onClick={() => onTerminal(node)}>Terminal</button>
      </div>
      {question && <HostKeyPrompt q={question} onTrust={() => void answer(question)} onCancel={() => setQuestion(undefined)} />}
      {error && <ErrorBox error={error} fields={NODE_FIELDS} />}
      {preflight && (
        <ul className="checklist" aria-label={`Preflight of ${node.name}`}>
          {preflight.checks.map((c) => (
            <li key={c.id} className={`check ${c.status === 'pass' ? 'ok' : c.status === 'warn' ? 'warn' : 'missing'}`}>
              <span className="mark">{MARK[c.status]}</span>
              <span className="label">{c.label}</span>
              <span className="found">{c.found}</span>
              {c.hint && c.status !== 'pass' && <span className="hint">{c.hint}</span>}
            </li>
          ))}
          <li className="muted small">Checked {new Date(preflight.at).toLocaleString()}</li>
        </ul>
      )}
    </article>
  )
}
