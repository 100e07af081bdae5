import type { ApiError } from '../../../shared/errors'

export interface HostKeyQuestion {
  kind: 'unknown' | 'changed'
  host: string
  port: number
  algorithm?: string
  fingerprint: string
  oldFingerprint?: string
}

/** Reads a connect failure: is it a host-key question the user must answer? */
export function hostKeyQuestion(error: ApiError): HostKeyQuestion | undefined {
  const d = error.detail ?? {}
  if (error.code === 'host_key_unknown')
    return { kind: 'unknown', host: String(d.host), port: Number(d.port), algorithm: String(d.algorithm), fingerprint: String(d.fingerprint) }
  if (error.code === 'host_key_changed')
    return { kind: 'changed', host: String(d.host), port: Number(d.port), algorithm: d.algorithm ? String(d.algorithm) : undefined, fingerprint: String(d.newFingerprint), oldFingerprint: String(d.oldFingerprint) }
  return undefined
}

/**
 * Trust on first use, the OpenSSH way: the fingerprint exactly as `ssh-keygen -lf` prints it, and
 * nothing authenticated until the user says yes. A changed key is a warning with a deliberate,
 * confirmed replace — never a silent accept.
 */
export function HostKeyPrompt({ q, onTrust, onCancel }: { q: HostKeyQuestion; onTrust: () => void; onCancel: () => void }) {
  const where = q.port === 22 ? q.host : `[${q.host}]:${q.port}`
  if (q.kind === 'unknown') {
    return (
      <div className="dialog" role="dialog" aria-label="Unknown host key">
        <h3>First connection to {where}</h3>
        <p>MigLab has never seen this host's key. Compare the fingerprint with the one the node's administrator gave you (on the node: <code>ssh-keygen -lf /etc/ssh/ssh_host_{(q.algorithm ?? '').replace('ssh-', '')}_key.pub</code>).</p>
        <pre className="fingerprint" data-testid="fingerprint">{q.fingerprint}</pre>
        <p className="muted small">{q.algorithm} key. Nothing has been sent to the host yet.</p>
        <div className="actions">
          <button className="primary" onClick={onTrust}>
            Trust and connect
          </button>
          <button onClick={onCancel}>Cancel</button>
        </div>
      </div>
    )
  }
  return (
    <div className="dialog warning" role="alertdialog" aria-label="Host key changed">
      <h3>⚠ The host key of {where} has changed</h3>
      <p>
        MigLab refused to connect. Either the node was reinstalled or its keys regenerated — or someone is intercepting
        the connection. Replace the key only if you know why it changed.
      </p>
      <dl className="fingerprints">
        <dt>Trusted</dt>
        <dd>
          <code>{q.oldFingerprint}</code>
        </dd>
        <dt>Offered now</dt>
        <dd>
          <code data-testid="new-fingerprint">{q.fingerprint}</code>
        </dd>
      </dl>
      <div className="actions">
        <button
          className="danger"
          onClick={() => {
            if (confirm(`Replace the trusted key of ${where} with ${q.fingerprint}?`)) onTrust()
          }}
        >
          Replace key…
        </button>
        <button onClick={onCancel}>Keep refusing</button>
      </div>
    </div>
  )
}
