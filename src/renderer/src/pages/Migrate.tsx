import { useState } from 'react'
import type { JobInfo } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi } from '../api'
import { JobProgress } from '../JobProgress'
import { ExperimentForm, type ExperimentInput } from '../migrate/ExperimentForm'
import { LiveRuns } from '../migrate/LiveRun'
import { NeedsLab } from './NeedsLab'

function MigrateView({ labs }: { labs: Parameters<typeof ExperimentForm>[0]['labs'] }) {
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
      <ExperimentForm labs={labs} busy={job?.status === 'running'} error={error} onStart={(x) => void start(x)} />
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
    {(labs) => <MigrateView labs={labs} />}
  </NeedsLab>
)
