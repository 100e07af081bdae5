import { useEffect, useState } from 'react'
import type { RunDetail } from '../../../shared/contract/migration'
import type { JobInfo, RunSummary } from '../../../shared/domain'
import { roleSeries } from '../../../shared/metrics'
import { useApi } from '../api'
import { mib, ms } from '../runs/format'
import { RunView } from '../runs/RunView'

const last = (points: [number, number][] | undefined) => points?.at(-1)?.[1]

/** Longest silence between probe replies so far (reply time = send time + RTT). */
function liveGap(rtt: [number, number][] = []): number | undefined {
  if (rtt.length < 2) return undefined
  let gap = 0
  for (let i = 1; i < rtt.length; i++) gap = Math.max(gap, rtt[i][0] + rtt[i][1] - (rtt[i - 1][0] + rtt[i - 1][1]))
  return gap
}

/** One labelled bar: `bytes` out of the guest's `total` RAM. */
function Meter({ label, bytes, total, warn }: { label: string; bytes?: number; total?: number; warn?: boolean }) {
  return (
    <div className="meter">
      <span>{label}</span>
      <div className="bar">
        <div className={warn ? 'fill warn' : 'fill'} style={{ width: `${total ? Math.min(100, ((bytes ?? 0) / total) * 100) : 0}%` }} />
      </div>
      <span>{bytes !== undefined ? mib(bytes) : '—'}</span>
    </div>
  )
}

/** The runs of one experiment as they happen: live bars while a run migrates, its full view when done. */
export function LiveRuns({ job, labId }: { job: JobInfo; labId: number }) {
  const api = useApi()
  const [runs, setRuns] = useState<RunSummary[]>([])
  const [detail, setDetail] = useState<RunDetail>()

  useEffect(() => {
    let stop = false
    const tick = async () => {
      const mine = (await api.call('runs.list', { labId })).filter((r) => r.startedAt >= job.startedAt)
      if (stop) return
      setRuns(mine)
      const current = mine[0]
      if (current) setDetail(await api.call('runs.get', { id: current.id }))
    }
    const timer = setInterval(() => void tick().catch(() => undefined), 700)
    void tick()
    return () => {
      stop = true
      clearInterval(timer)
    }
  }, [api, job.startedAt, labId, job.status])

  const live = detail?.status === 'running' ? detail : undefined
  const sent = last(roleSeries(live?.samples, 'sent'))
  const remaining = last(roleSeries(live?.samples, 'remaining'))
  const total = last(roleSeries(live?.samples, 'ram'))
  // Drivers that report no bytes (xapi) report how far their task is, in %.
  const progress = last(roleSeries(live?.samples, 'progress'))
  return (
    <div className="live">
      {live && (
        <section className="card" aria-label="Live migration">
          <h3>
            Run #{live.id}: {live.strategy}, {live.workload}
          </h3>
          {progress !== undefined && (
            <div className="meter" aria-label="Progress">
              <span>Progress</span>
              <div className="bar">
                <div className="fill" style={{ width: `${Math.min(100, progress)}%` }} />
              </div>
              <span>{Math.round(progress)} %</span>
            </div>
          )}
          <Meter label="Sent" bytes={sent} total={total} />
          <Meter label="Remaining" bytes={remaining} total={total} warn />
          <p className="live-numbers">
            pass <strong>{last(roleSeries(live.samples, 'pass')) ?? '—'}</strong> · dirty rate <strong>{last(roleSeries(live.samples, 'dirty_rate')) ?? '—'}</strong> pages/s · expected downtime{' '}
            <strong>{ms(last(roleSeries(live.samples, 'expected_downtime')))}</strong> · longest probe gap so far <strong>{ms(liveGap(live.samples['probe.rtt_ms']))}</strong>
          </p>
        </section>
      )}
      {detail && detail.status !== 'running' && <RunView run={detail} />}
      {runs.length > 1 && (
        <p className="muted small">
          This experiment's runs: {runs.map((r) => `#${r.id} ${r.strategy} ${r.status}`).join(' · ')} — compare them on the Runs page.
        </p>
      )}
    </div>
  )
}
