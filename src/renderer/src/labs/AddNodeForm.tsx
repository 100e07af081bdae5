import { useState, type FormEvent } from 'react'
import type { SshConfigCandidate } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { NODE_FIELDS } from './node-fields'

type AuthKind = 'key' | 'agent' | 'password'

/** Add a node by hand or from ~/.ssh/config. Where passwords go (memory or OS keyring) is said under the fields. */
export function AddNodeForm({ labId, onAdded }: { labId: number; onAdded: () => void }) {
  const api = useApi()
  const info = useCall('app.info', {})
  const [f, setF] = useState({ name: '', host: '', port: '22', user: 'root', auth: 'key' as AuthKind, keyPath: '~/.ssh/id_ed25519', secret: '', jumpHost: '' })
  const [error, setError] = useState<ApiError>()
  const [candidates, setCandidates] = useState<SshConfigCandidate[]>()
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value })

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    const auth =
      f.auth === 'key'
        ? { kind: 'key' as const, keyPath: f.keyPath, ...(f.secret ? { passphrase: f.secret } : {}) }
        : f.auth === 'agent'
          ? { kind: 'agent' as const }
          : { kind: 'password' as const, password: f.secret }
    try {
      await api.call('nodes.add', { labId, name: f.name, host: f.host, port: Number(f.port), user: f.user, auth, ...(f.jumpHost ? { jumpHost: f.jumpHost } : {}) })
      setF({ ...f, name: '', host: '', secret: '' })
      setError(undefined)
      onAdded()
    } catch (err) {
      setError(asApiError(err))
    }
  }

  const importConfig = async () => {
    try {
      setCandidates(await api.call('nodes.importSshConfig', {}))
    } catch (err) {
      setError(asApiError(err))
    }
  }

  const pick = (c: SshConfigCandidate) =>
    setF({ ...f, name: c.name, host: c.host, port: String(c.port), user: c.user, auth: c.keyPath ? 'key' : 'agent', keyPath: c.keyPath ?? f.keyPath, jumpHost: c.jumpHost ?? '' })

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Add a node">
      <h2>Add a node</h2>
      <div className="row">
        <label>
          Name
          <input value={f.name} onChange={set('name')} placeholder="node-a" required />
        </label>
        <label>
          Host
          <input value={f.host} onChange={set('host')} placeholder="10.0.0.11 or node-a.lab" required />
        </label>
        <label className="narrow">
          Port
          <input value={f.port} onChange={set('port')} inputMode="numeric" required />
        </label>
        <label>
          User
          <input value={f.user} onChange={set('user')} required />
        </label>
      </div>
      <div className="row">
        <label className="narrow">
          Sign in with
          <select value={f.auth} onChange={set('auth')}>
            <option value="key">Key file</option>
            <option value="agent">SSH agent</option>
            <option value="password">Password</option>
          </select>
        </label>
        {f.auth === 'key' && (
          <label>
            Private key file
            <input value={f.keyPath} onChange={set('keyPath')} required />
          </label>
        )}
        {f.auth !== 'agent' && (
          <label>
            {f.auth === 'key' ? 'Passphrase (if any)' : 'Password'}
            <input type="password" value={f.secret} onChange={set('secret')} required={f.auth === 'password'} autoComplete="off" />
          </label>
        )}
        <label>
          Jump host (node name)
          <input value={f.jumpHost} onChange={set('jumpHost')} placeholder="optional" />
        </label>
      </div>
      {info.data && (
        <p className="muted small" data-testid="secrets-note" data-kind={info.data.secrets.kind}>
          {info.data.secrets.note}
        </p>
      )}
      {error && <ErrorBox error={error} fields={NODE_FIELDS} />}
      <div className="actions">
        <button className="primary" type="submit">
          Add node
        </button>
        <button type="button" onClick={() => void importConfig()}>
          Import from ~/.ssh/config
        </button>
      </div>
      {candidates && (
        <ul className="candidates" aria-label="Hosts in ~/.ssh/config">
          {candidates.length === 0 && <li className="muted">No concrete hosts in ~/.ssh/config.</li>}
          {candidates.map((c) => (
            <li key={c.name}>
              <button type="button" onClick={() => pick(c)}>
                {c.name}
              </button>{' '}
              <span className="muted small">
                {c.user}@{c.host}:{c.port}
                {c.jumpHost && ` via ${c.jumpHost}`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </form>
  )
}
