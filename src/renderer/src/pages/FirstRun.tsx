import { useState } from 'react'
import type { JobInfo } from '../../../shared/domain'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi } from '../api'
import { ErrorBox } from '../ErrorBox'
import { JobProgress } from '../JobProgress'
import { navigate } from '../nav'
import { Doctor } from './Doctor'

export function FirstRun({ onOpenLabs }: { onOpenLabs: () => void }) {
  const api = useApi()
  const [job, setJob] = useState<JobInfo>()
  const [error, setError] = useState<ApiError>()
  const createDemo = async (hypervisor?: 'xen') => {
    try {
      setError(undefined)
      setJob(await api.call('demo.up', hypervisor ? { hypervisor } : {}))
    } catch (err) {
      setError(asApiError(err))
    }
  }
  const finished = (j: JobInfo) => {
    const labId = (j.result as { labId?: number } | undefined)?.labId
    if (j.status === 'succeeded') navigate('labs', labId ? { lab: labId } : {})
  }
  return (
    <div className="first-run">
      <section className="hero">
        <h1>Measure live VM migration, not guess it.</h1>
        <p className="lead">
          MigLab connects to your lab nodes over SSH, sets up the hypervisor, shared storage and the MPI/DSM cluster with
          guided wizards, runs live migrations with the strategy you choose, and measures each one twice: the hypervisor's
          own figures and what a client on the network actually saw. Every run is kept in a local history to compare,
          chart and export.
        </p>
        <div className="actions">
          <button className="primary" onClick={() => void createDemo()} disabled={job?.status === 'running'}>
            Create demo lab
          </button>
          <button onClick={() => void createDemo('xen')} disabled={job?.status === 'running'}>
            Create Xen demo lab
          </button>
          <button onClick={onOpenLabs}>Add my lab</button>
        </div>
        {error && <ErrorBox error={error} />}
        {job && <JobProgress key={job.id} job={job} onDone={finished} />}
        <p className="muted small">
          The demo lab builds two lab nodes on this Linux machine (network namespaces with their own SSH servers and a QEMU
          guest), so you can learn MigLab without hardware. The Xen demo lab boots two real Xen 4.17 hosts as QEMU guests
          instead and migrates with <code>xl</code>, as the thesis's testbed did (its dom0 image is built once, ~2 min; it
          needs ~5 GB RAM while up).
        </p>
      </section>
      <section className="card">
        <h2>This machine</h2>
        <Doctor />
      </section>
    </div>
  )
}
