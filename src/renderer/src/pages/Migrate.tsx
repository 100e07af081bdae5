import { useState } from 'react'
import type { JobInfo } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi } from '../api'
import { JobProgress } from '../JobProgress'
import { parseWorkload, strategyIds, type RunDetail, type StrategyId, type Workload } from '../../../shared/contract/migration'
import { useCall } from '../api'
import { ExperimentForm, type ExperimentInput, type ExperimentPreset } from '../migrate/ExperimentForm'
import { param } from '../nav'
import { LiveRuns } from '../migrate/LiveRun'
import { NeedsLab } from './NeedsLab'

/** A stored run's settings as the form's starting values ("Run again with these settings"). */
export function presetFromRun(run: RunDetail): ExperimentPreset {
  const p = run.params
  let workload: Workload | undefined = p.workload && typeof p.workload === 'object' ? (p.workload as Workload) : undefined
  if (!workload) {
    try {
      workload = parseWorkload(run.workload)
    } catch {
      workload = undefined
    }
  }
  const { from, to, strategy: _s, workload: _w, repetition: _r, ...params } = p as Record<string, unknown>
  return {
    labId: run.labId ?? undefined,
    vm: run.vm,
    from: typeof from === 'string' ? from : undefined,
    to: typeof to === 'string' ? to : undefined,
    strategies: (strategyIds as readonly string[]).includes(run.strategy) ? [run.strategy as StrategyId] : undefined,
    workloads: workload ? [workload] : undefined,
    params,
  }
}

function MigrateFromRun({ labs, runId }: { labs: Parameters<typeof ExperimentForm>[0]['labs']; runId: number }) {
  const run = useCall('runs.get', { id: runId })
  if (!run.data) return <p className="muted">Loading the settings of run #{runId}…</p>
  return (
    <>
      <p className="notice" data-testid="run-again">Settings of run #{runId} ({run.data.strategy}, {run.data.workload}) — change anything before starting.</p>
      <MigrateView labs={labs} preset={presetFromRun(run.data)} />
    </>
  )
}

function MigrateView({ labs, preset }: { labs: Parameters<typeof ExperimentForm>[0]['labs']; preset?: ExperimentPreset }) {
  const api = useApi()
  const [job, setJob] = useState<JobInfo>()
  const [labId, setLabId] = useState<number>()
  const [error, setError] = useState<ApiError>()
  const start = async (x: ExperimentInput) => {
    try {
      setError(undefined)
      setLabId(x.labId)
      setJob(await api.call('experiments.start', x))
    } catch (err) {
      setError(asApiError(err))
    }
  }
  return (
    <>
      <ExperimentForm labs={labs} preset={preset} busy={job?.status === 'running'} error={error} onStart={(x) => void start(x)} />
      {job && (
        <section className="card" aria-label="Experiment progress">
          <JobProgress key={job.id} job={job} onDone={setJob} />
        </section>
      )}
      {job && labId && <LiveRuns key={job.id} job={job} labId={labId} />}
    </>
  )
}

export const MigratePage = () => (
  <NeedsLab title="Migrate" about="Live migrations with a chosen strategy and guest workload, measured by the hypervisor and by an external probe of what clients see.">
    {(labs) => (Number(param('again')) > 0 ? <MigrateFromRun labs={labs} runId={Number(param('again'))} /> : <MigrateView labs={labs} />)}
  </NeedsLab>
)
