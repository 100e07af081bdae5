import { useCallback, useState } from 'react'
import type { SetupRunReport, SetupStepResult, StoredStep, WizardId, WizardState, WizardStatus } from '../../../shared/contract/setup'
import type { JobInfo, Lab } from '../../../shared/domain'
import { asApiError, useApi, useCall } from '../api'
import { ErrorBox } from '../ErrorBox'
import { JobProgress } from '../JobProgress'
import { navigate, param } from '../nav'
import type { ApiError } from '../../../shared/errors'
import { NeedsLab } from './NeedsLab'
import { SetupFigures } from '../setup/SetupFigures'
import { LabOptions } from '../labs/LabOptions'

const STATE_LABEL: Record<WizardState, string> = { not_started: 'not started', partial: 'partial', done: 'done', drifted: 'drifted' }

const OUTCOME: Record<SetupStepResult['outcome'], { mark: string; label: string; cls: string }> = {
  already_done: { mark: '✓', label: 'already done', cls: 'pass' },
  applied: { mark: '✓', label: 'applied, verified', cls: 'pass' },
  would_change: { mark: '○', label: 'would change', cls: 'warn' },
  not_checkable: { mark: '?', label: 'not checkable', cls: 'warn' },
  failed: { mark: '✗', label: 'failed', cls: 'fail' },
  not_run: { mark: '·', label: 'not run', cls: 'warn' },
  skipped: { mark: '–', label: 'skipped (optional)', cls: 'pass skipped' },
}

export const SetupPage = () => (
  <NeedsLab
    title="Setup wizards"
    about="Guided setup of the hypervisor (XCP-ng/XenServer pool, Xen xl or QEMU/KVM), NFS shared storage and the MPI cluster — every step previewable (dry run), idempotent, resumable and verified."
  >
    {(labs) => <SetupForLabs labs={labs} />}
  </NeedsLab>
)

function SetupForLabs({ labs }: { labs: Lab[] }) {
  const wanted = Number(param('lab'))
  const lab = labs.find((l) => l.id === wanted) ?? labs[0]
  return (
    <div>
      {labs.length > 1 && (
        <label className="field">
          Lab{' '}
          <select aria-label="Lab" value={lab.id} onChange={(e) => navigate('setup', { lab: e.target.value })}>
            <LabOptions labs={labs} />
          </select>
        </label>
      )}
      <Wizards lab={lab} />
    </div>
  )
}

function Wizards({ lab }: { lab: Lab }) {
  const list = useCall('setup.list', { labId: lab.id }, (e) => (e.type === 'setup.changed' && e.labId === lab.id) || e.type === 'labs.changed')
  if (list.error) return <ErrorBox error={list.error} />
  if (!list.data) return <p className="muted">Loading…</p>
  return (
    <div className="wizards">
      {list.data.map((w) => (
        <WizardCard key={w.id} lab={lab} wizard={w} />
      ))}
    </div>
  )
}

/** Stored result of one step on one node (or the lab). */
const storedFor = (w: WizardStatus, step: string, node: string | null): StoredStep | undefined => w.steps.find((s) => s.step === step && s.node === node)

function WizardCard({ lab, wizard: w }: { lab: Lab; wizard: WizardStatus }) {
  const api = useApi()
  const [job, setJob] = useState<JobInfo>()
  const [report, setReport] = useState<SetupRunReport>()
  const [error, setError] = useState<ApiError>()
  const [pool, setPool] = useState({ poolMasterUser: 'root', poolMasterPassword: '', poolName: '', srServer: '', srPath: '' })
  const [grappa, setGrappa] = useState({ grappaSource: '', grappaThirdParty: '' })
  const running = job?.status === 'running'
  const start = async (mode: 'dry' | 'apply' | 'check') => {
    setError(undefined)
    setReport(undefined)
    try {
      const options =
        w.id === 'xcpng'
          ? {
              poolMasterUser: pool.poolMasterUser,
              ...(pool.poolMasterPassword ? { poolMasterPassword: pool.poolMasterPassword } : {}),
              ...(pool.poolName ? { poolName: pool.poolName } : {}),
              ...(pool.srServer && pool.srPath ? { srServer: pool.srServer, srPath: pool.srPath } : {}),
            }
          : w.id === 'mpi'
            ? { ...(grappa.grappaSource ? { grappaSource: grappa.grappaSource } : {}), ...(grappa.grappaThirdParty ? { grappaThirdParty: grappa.grappaThirdParty } : {}) }
            : {}
      setJob(
        mode === 'check'
          ? await api.call('setup.check', { labId: lab.id, wizard: w.id })
          : await api.call('setup.run', { labId: lab.id, wizard: w.id as WizardId, dryRun: mode === 'dry', options }),
      )
    } catch (err) {
      setError(asApiError(err))
    }
  }
  const onDone = useCallback((j: JobInfo) => {
    setJob(j)
    if (j.status === 'succeeded') setReport(j.result as SetupRunReport)
  }, [])
  const rows = w.catalogue.flatMap((s) => (s.scope === 'lab' ? [{ s, node: null as string | null }] : lab.nodes.map((n) => ({ s, node: n.name as string | null }))))
  const nodeId = (name: string | null) => lab.nodes.find((n) => n.name === name)?.id
  return (
    <section className="card wizard" aria-label={`${w.title} wizard`}>
      <div className="job-head">
        <h2>{w.title}</h2>
        <span className={`badge wizard-state ${w.state}`} aria-label="Wizard state">
          {STATE_LABEL[w.state]}
        </span>
      </div>
      <p className="muted">{w.about}</p>
      <ul className="checklist" aria-label={`${w.title} steps`}>
        {rows.map(({ s, node }) => {
          const st = storedFor(w, s.id, node)
          const o = st ? OUTCOME[st.outcome] : undefined
          const drifted = st && st.doneAt && st.outcome === 'would_change'
          return (
            <li key={`${s.id}@${node ?? ''}`} className={`check ${o?.cls ?? 'warn'}`} data-step={s.id} data-node={node ?? 'lab'}>
              <span className="mark">{o?.mark ?? '○'}</span>
              <span className="label">
                {s.title}
                {node ? ` — ${node}` : ''}
              </span>
              <span className="found">
                <span className="outcome">{drifted ? 'drifted: ' : ''}{o ? o.label : 'not started'}</span>
                {st ? ` — ${st.found}` : ''}
                {st?.outcome === 'failed' && st.error?.detail?.hint && <span className="fix"> Fix: {st.error.detail.hint}</span>}
                {st?.outcome === 'failed' && nodeId(node) !== undefined && (
                  <button className="subtle" onClick={() => navigate('terminals', { node: nodeId(node)! })}>
                    Open a terminal on {node}
                  </button>
                )}
              </span>
            </li>
          )
        })}
      </ul>
      <SetupFigures wizard={w} />
      {w.id === 'xcpng' && (
        <div className="form-row" aria-label="Pool master">
          <label>
            Pool master user <input value={pool.poolMasterUser} onChange={(e) => setPool({ ...pool, poolMasterUser: e.target.value })} />
          </label>
          <label>
            Pool master password{' '}
            <input type="password" autoComplete="off" value={pool.poolMasterPassword} onChange={(e) => setPool({ ...pool, poolMasterPassword: e.target.value })} />
          </label>
          <label>
            Pool name <input value={pool.poolName} onChange={(e) => setPool({ ...pool, poolName: e.target.value })} />
          </label>
          <label>
            NFS SR server (optional) <input placeholder="the NFS wizard's server" value={pool.srServer} onChange={(e) => setPool({ ...pool, srServer: e.target.value })} />
          </label>
          <label>
            NFS SR path <input placeholder="/srv/miglab" value={pool.srPath} onChange={(e) => setPool({ ...pool, srPath: e.target.value })} />
          </label>
        </div>
      )}
      {w.id === 'mpi' && (
        <div className="form-row" aria-label="Grappa (optional)">
          <label>
            Grappa source on the nodes (optional){' '}
            <input placeholder="/opt/grappa" value={grappa.grappaSource} onChange={(e) => setGrappa({ ...grappa, grappaSource: e.target.value })} />
          </label>
          <label>
            grappa-third-party-downloads.tar{' '}
            <input placeholder="for an offline build" value={grappa.grappaThirdParty} onChange={(e) => setGrappa({ ...grappa, grappaThirdParty: e.target.value })} />
          </label>
        </div>
      )}
      <div className="actions">
        <button disabled={running} onClick={() => void start('dry')}>
          Dry run
        </button>
        <button className="primary" disabled={running} onClick={() => void start('apply')}>
          Apply
        </button>
        <button disabled={running} onClick={() => void start('check')}>
          Check again
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {job && <JobProgress key={job.id} job={job} onDone={onDone} />}
      {report && <Report report={report} />}
    </section>
  )
}

function Report({ report }: { report: SetupRunReport }) {
  const commands = report.steps.flatMap((s) => s.commands.map((c) => ({ step: s.title, c })))
  return (
    <div className="setup-report" aria-label={report.dryRun ? 'Dry run' : 'Result'}>
      <h3>{report.dryRun ? 'Dry run — nothing was changed' : 'Result'}</h3>
      <ul className="checklist">
        {report.steps.map((s) => (
          <li key={`${s.step}@${s.node ?? ''}`} className={`check ${OUTCOME[s.outcome].cls}`}>
            <span className="mark">{OUTCOME[s.outcome].mark}</span>
            <span className="label">
              {s.title}
              {s.node ? ` — ${s.node}` : ''}
            </span>
            <span className="found">
              {OUTCOME[s.outcome].label}: {s.found}
              {s.change ? ` → ${s.change}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {report.dryRun && (
        <>
          <h4>Commands apply would run, per node, exactly as they would run</h4>
          {commands.length === 0 ? (
            <p className="muted" aria-label="Dry-run commands">
              None: every step is already done.
            </p>
          ) : (
            <pre className="job-log" aria-label="Dry-run commands">
              {commands.map(({ step, c }) => `# ${step}\n${c}`).join('\n')}
            </pre>
          )}
        </>
      )}
    </div>
  )
}
