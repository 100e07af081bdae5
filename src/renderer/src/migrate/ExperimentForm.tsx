import { useState, type FormEvent } from 'react'
import type { Input } from '../../../shared/api'
import { strategyIds, strategyNotes, type StrategyId, type Workload } from '../../../shared/contract/migration'
import type { Lab } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { useCall } from '../api'
import { ErrorBox, type FieldLabels } from '../ErrorBox'
import { LabOptions } from '../labs/LabOptions'

const EXPERIMENT_FIELDS: FieldLabels = {
  labId: 'Lab',
  vm: 'VM',
  from: 'From',
  to: 'To',
  strategies: 'Strategies',
  workloads: 'Workloads',
  repetitions: 'Repetitions',
  'params.maxBandwidthMiBs': 'Max bandwidth (MiB/s)',
  'params.downtimeLimitMs': 'Downtime limit (ms)',
  'params.multifdChannels': 'Multifd channels',
  'params.postcopyAfterPasses': 'Post-copy after N passes',
  'params.probeIntervalMs': 'Probe interval (ms)',
  'params.tls': 'Encrypt the migration stream',
  'params.reuseGuest': 'Keep the guest between runs',
  'params.migrationNetwork': 'Migration network',
  params: 'Parameters',
}

export type ExperimentInput = Input<'experiments.start'>

/** The experiment form: it knows what the driver can do and shows the rest disabled with the reason. */
/** The form's starting values: a stored run's settings for "run again", or the defaults. */
export interface ExperimentPreset {
  labId?: number
  vm?: string
  from?: string
  to?: string
  strategies?: StrategyId[]
  workloads?: Workload[]
  repetitions?: number
  params?: Record<string, unknown>
}

const str = (v: unknown, fallback: string) => (typeof v === 'number' || typeof v === 'string' ? String(v) : fallback)

export function ExperimentForm({ labs, busy, error, onStart, preset = {} }: { labs: Lab[]; busy: boolean; error?: ApiError; onStart: (x: ExperimentInput) => void; preset?: ExperimentPreset }) {
  const [labId, setLabId] = useState(labs.find((l) => l.id === preset.labId)?.id ?? labs[0].id)
  const lab = labs.find((l) => l.id === labId) ?? labs[0]
  const [from, setFrom] = useState(preset.from ?? lab.nodes[0]?.name ?? '')
  const [to, setTo] = useState(preset.to ?? lab.nodes[1]?.name ?? '')
  const vms = useCall('vms.list', { labId })
  const caps = useCall('migration.capabilities', { labId })
  // Shown only when the lab's driver says it can choose the network.
  const nets = useCall('migration.networks', { labId })
  const [vm, setVm] = useState(preset.vm ?? (lab.kind === 'demo' ? 'guest' : ''))
  const [strategies, setStrategies] = useState<StrategyId[]>(preset.strategies ?? ['precopy'])
  const pw = preset.workloads
  const [kinds, setKinds] = useState(
    pw ? { idle: pw.some((w) => w.kind === 'idle'), echo: pw.some((w) => w.kind === 'echo'), dirty: pw.some((w) => w.kind === 'dirty'), custom: pw.some((w) => w.kind === 'custom') } : { idle: false, echo: true, dirty: false, custom: false },
  )
  const presetDirty = pw?.find((w) => w.kind === 'dirty')
  const [dirty, setDirty] = useState(presetDirty ? { bufferMiB: presetDirty.bufferMiB, rateMiBs: presetDirty.rateMiBs } : { bufferMiB: 64, rateMiBs: 50 })
  const presetCustom = pw?.find((w) => w.kind === 'custom')
  const [custom, setCustom] = useState(presetCustom?.command ?? '')
  const [reps, setReps] = useState(preset.repetitions ?? 1)
  const pp = preset.params ?? {}
  const [p, setP] = useState({
    maxBandwidthMiBs: str(pp.maxBandwidthMiBs, '1024'),
    downtimeLimitMs: str(pp.downtimeLimitMs, ''),
    multifdChannels: str(pp.multifdChannels, '2'),
    postcopyAfterPasses: str(pp.postcopyAfterPasses, ''),
    probeIntervalMs: str(pp.probeIntervalMs, '1'),
  })
  const [tls, setTls] = useState(pp.tls === true)
  const [reuseGuest, setReuseGuest] = useState(pp.reuseGuest === true)
  const [network, setNetwork] = useState(str(pp.migrationNetwork, ''))

  const toggle = (id: StrategyId) => setStrategies(strategies.includes(id) ? strategies.filter((s) => s !== id) : [...strategies, id])
  // Only what is shown ticked runs: a strategy the driver cannot do (or not yet known) is never sent.
  const chosen = strategies.filter((id) => caps.data?.find((c) => c.id === id)?.supported)
  const num = (v: string) => (v.trim() === '' ? undefined : Number(v))

  const submit = (e: FormEvent) => {
    e.preventDefault()
    const workloads: Workload[] = [
      ...(kinds.idle ? [{ kind: 'idle' as const }] : []),
      ...(kinds.echo ? [{ kind: 'echo' as const }] : []),
      ...(kinds.dirty ? [{ kind: 'dirty' as const, ...dirty }] : []),
      ...(kinds.custom && custom ? [{ kind: 'custom' as const, command: custom }] : []),
    ]
    const params = Object.fromEntries(
      Object.entries({
        maxBandwidthMiBs: num(p.maxBandwidthMiBs),
        downtimeLimitMs: num(p.downtimeLimitMs),
        multifdChannels: num(p.multifdChannels),
        postcopyAfterPasses: strategies.includes('postcopy') ? num(p.postcopyAfterPasses) : undefined,
        probeIntervalMs: num(p.probeIntervalMs),
        tls: tls || undefined,
        reuseGuest: reuseGuest || undefined,
        migrationNetwork: nets.data?.supported && network ? network : undefined,
      }).filter(([, v]) => v !== undefined),
    )
    onStart({ labId, vm, from, to, strategies: chosen, workloads, repetitions: reps, params })
  }

  const vmNames = [...new Set([...(lab.kind === 'demo' ? ['guest'] : []), ...(vms.data ?? []).map((v) => v.name)])]
  return (
    <form className="card form wide" onSubmit={submit} aria-label="Experiment">
      <div className="row">
        <label>
          Lab
          <select value={labId} onChange={(e) => setLabId(Number(e.target.value))}>
            <LabOptions labs={labs} />
          </select>
        </label>
        <label>
          VM
          <input list="vm-names" value={vm} onChange={(e) => setVm(e.target.value)} required />
          <datalist id="vm-names">
            {vmNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </label>
        <label>
          From
          <select value={from} onChange={(e) => setFrom(e.target.value)}>
            {lab.nodes.map((n) => (
              <option key={n.id}>{n.name}</option>
            ))}
          </select>
        </label>
        <label>
          To
          <select value={to} onChange={(e) => setTo(e.target.value)}>
            {lab.nodes.map((n) => (
              <option key={n.id}>{n.name}</option>
            ))}
          </select>
        </label>
      </div>
      {vms.data && vms.data.length > 0 && (
        <p className="muted small">
          Running: {vms.data.map((v) => `${v.name} on ${v.node} (${v.state}, ${v.memoryMiB} MiB${v.sharedMemory ? ', shared RAM' : ''})`).join('; ')}
        </p>
      )}
      <fieldset>
        <legend>Strategies</legend>
        {caps.error && <ErrorBox error={caps.error} />}
        <div className="choices">
          {strategyIds.map((id) => {
            const c = caps.data?.find((x) => x.id === id)
            const disabled = !c?.supported
            return (
              <label key={id} className={disabled ? 'choice disabled' : 'choice'} title={c?.reason}>
                <input type="checkbox" checked={strategies.includes(id) && !disabled} disabled={disabled} onChange={() => toggle(id)} />
                <span>
                  {c?.label ?? id}
                  {disabled && c?.reason && <span className="reason">{c.reason}</span>}
                  {!disabled && strategyNotes[id] && <span className="reason">{strategyNotes[id]}</span>}
                </span>
              </label>
            )
          })}
        </div>
      </fieldset>
      <fieldset>
        <legend>Guest workloads</legend>
        <div className="choices">
          <label className="choice">
            <input type="checkbox" checked={kinds.idle} onChange={(e) => setKinds({ ...kinds, idle: e.target.checked })} /> Idle
          </label>
          <label className="choice">
            <input type="checkbox" checked={kinds.echo} onChange={(e) => setKinds({ ...kinds, echo: e.target.checked })} /> Network service (UDP echo, client latency)
          </label>
          <label className="choice">
            <input type="checkbox" checked={kinds.dirty} onChange={(e) => setKinds({ ...kinds, dirty: e.target.checked })} /> Memory dirtier
            <input aria-label="Dirty buffer MiB" className="tiny" type="number" min={1} value={dirty.bufferMiB} onChange={(e) => setDirty({ ...dirty, bufferMiB: Number(e.target.value) })} /> MiB at
            <input aria-label="Dirty rate MiB/s" className="tiny" type="number" min={0} value={dirty.rateMiBs} onChange={(e) => setDirty({ ...dirty, rateMiBs: Number(e.target.value) })} /> MiB/s
          </label>
          <label className="choice">
            <input type="checkbox" checked={kinds.custom} onChange={(e) => setKinds({ ...kinds, custom: e.target.checked })} /> Custom command
            <input aria-label="Custom command" value={custom} onChange={(e) => setCustom(e.target.value)} placeholder="in the guest" />
          </label>
        </div>
      </fieldset>
      <details>
        <summary>Parameters</summary>
        <div className="row">
          <label>
            Max bandwidth (MiB/s)
            <input value={p.maxBandwidthMiBs} onChange={(e) => setP({ ...p, maxBandwidthMiBs: e.target.value })} inputMode="decimal" />
          </label>
          <label>
            Downtime limit (ms)
            <input value={p.downtimeLimitMs} onChange={(e) => setP({ ...p, downtimeLimitMs: e.target.value })} placeholder="QEMU default" inputMode="numeric" />
          </label>
          <label>
            Multifd channels
            <input value={p.multifdChannels} onChange={(e) => setP({ ...p, multifdChannels: e.target.value })} inputMode="numeric" />
          </label>
          <label>
            Post-copy after N passes
            <input value={p.postcopyAfterPasses} onChange={(e) => setP({ ...p, postcopyAfterPasses: e.target.value })} placeholder="e.g. 2" inputMode="numeric" />
          </label>
          <label>
            Probe interval (ms)
            <input value={p.probeIntervalMs} onChange={(e) => setP({ ...p, probeIntervalMs: e.target.value })} inputMode="decimal" />
          </label>
          {nets.data?.supported && (
            <label>
              Migration network
              <select value={network} onChange={(e) => setNetwork(e.target.value)}>
                <option value="">The hypervisor's default (management network)</option>
                {nets.data.networks.map((n) => (
                  <option key={n.uuid} value={n.uuid}>
                    {n.name}
                    {n.bridge ? ` (${n.bridge})` : ''}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
        <div className="choices">
          <label className="choice">
            <input type="checkbox" checked={tls} onChange={(e) => setTls(e.target.checked)} /> Encrypt the migration stream (TLS with MigLab's own CA; both nodes verify each other)
          </label>
          <label className="choice">
            <input type="checkbox" checked={reuseGuest} onChange={(e) => setReuseGuest(e.target.checked)} /> Keep the guest between runs (no reboot when its definition is unchanged; runs then alternate direction)
          </label>
        </div>
        {nets.error && <ErrorBox error={nets.error} />}
      </details>
      <div className="row">
        <label className="narrow">
          Repetitions
          <input type="number" min={1} max={1000} value={reps} onChange={(e) => setReps(Number(e.target.value))} />
        </label>
      </div>
      {error && <ErrorBox error={error} fields={EXPERIMENT_FIELDS} />}
      <div className="actions">
        <button className="primary" type="submit" disabled={busy || chosen.length === 0}>
          Start migration
        </button>
      </div>
    </form>
  )
}
