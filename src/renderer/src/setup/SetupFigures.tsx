import type { StoredStep, WizardStatus } from '../../../shared/contract/setup'
import { asPingPong, pingPongPoints, sizeLabel } from '../../../shared/pingpong'
import { BarChart } from '../charts/BarChart'

/**
 * What a wizard measured, from its stored step results: the MPI ping-pong (latency and bandwidth
 * per message size, charted) and the NFS cross-node proof (checksums, throughput). Figures are
 * derived here from the stored raw samples, never stored twice.
 */
export function SetupFigures({ wizard }: { wizard: WizardStatus }) {
  if (wizard.id === 'mpi') {
    const step = wizard.steps.find((s) => s.step === 'pingpong')
    return step ? <PingPong step={step} /> : null
  }
  if (wizard.id === 'nfs') {
    const step = wizard.steps.find((s) => s.step === 'proof')
    return step ? <NfsProof step={step} /> : null
  }
  return null
}

function PingPong({ step }: { step: StoredStep }) {
  const result = asPingPong(step.facts)
  if (!result) return null
  const points = pingPongPoints(result.samples)
  return (
    <div className="setup-figures" aria-label="Ping-pong results">
      <h3>MPI ping-pong {step.outcome === 'would_change' ? '(last result; the lab changed since)' : ''}</h3>
      <p className="muted">
        Ranks on {result.ranks.join(' and ') || 'unknown hosts'}, measured {result.at}. Latency is half a round trip; bandwidth the message size over it.
      </p>
      <div className="chart-grid">
        <BarChart title="Latency per message size" unit="µs" bars={points.map((p) => ({ label: sizeLabel(p.bytes), value: p.latencyUs, color: '#2563eb' }))} />
        <BarChart title="Bandwidth per message size" unit="GB/s" bars={points.map((p) => ({ label: sizeLabel(p.bytes), value: p.bandwidthGBps, color: '#059669' }))} />
      </div>
      <table className="table compact" aria-label="Ping-pong figures">
        <thead>
          <tr>
            <th>message</th>
            <th>round trips</th>
            <th>latency µs</th>
            <th>bandwidth GB/s</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p) => (
            <tr key={p.bytes}>
              <td>{sizeLabel(p.bytes)}</td>
              <td>{p.roundTrips}</td>
              <td>{p.latencyUs.toFixed(1)}</td>
              <td>{p.bandwidthGBps.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

interface ReadBack {
  sha256: string
  seconds?: number
  mibPerS?: number
}

function NfsProof({ step }: { step: StoredStep }) {
  const facts = step.facts ?? {}
  const written = typeof facts.sha256 === 'string' ? facts.sha256 : undefined
  const reads = Object.entries(facts).filter((e): e is [string, ReadBack] => typeof e[1] === 'object' && e[1] !== null && 'sha256' in e[1])
  if (!written || reads.length === 0) return null
  return (
    <div className="setup-figures" aria-label="NFS proof">
      <h3>NFS cross-node proof</h3>
      <table className="table compact" aria-label="NFS checksums">
        <thead>
          <tr>
            <th>node</th>
            <th>sha256</th>
            <th>same bytes</th>
            <th>read MiB/s</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>{typeof facts.writer === 'string' ? facts.writer : 'server'} (wrote{typeof facts.bytes === 'number' ? ` ${sizeLabel(facts.bytes)}` : ''})</td>
            <td className="mono">{written}</td>
            <td>—</td>
            <td>—</td>
          </tr>
          {reads.map(([node, r]) => (
            <tr key={node}>
              <td>{node} (read over NFS)</td>
              <td className="mono">{r.sha256}</td>
              <td>{r.sha256 === written ? 'yes' : 'NO'}</td>
              <td>{typeof r.mibPerS === 'number' ? r.mibPerS.toFixed(0) : 'not measured'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
