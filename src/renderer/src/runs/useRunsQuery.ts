import { useCallback, useEffect, useRef, useState } from 'react'
import type { RunFilter, RunListItem } from '../../../shared/contract/history'
import type { ApiError } from '../../../shared/errors'
import { asApiError, useApi, useEvents } from '../api'

const PAGE = 500

/** The filtered, sorted history, fetched a page at a time; reloads when the history changes. */
export function useRunsQuery(filter: RunFilter, sort: { by: string; desc: boolean }) {
  const api = useApi()
  const [runs, setRuns] = useState<RunListItem[]>([])
  const [total, setTotal] = useState<number>()
  const [error, setError] = useState<ApiError>()
  const [ms, setMs] = useState<number>()
  const generation = useRef(0)
  const loading = useRef(false)
  const key = JSON.stringify({ filter, sort })

  const load = useCallback(
    (offset: number, replace: boolean) => {
      const gen = replace ? ++generation.current : generation.current
      loading.current = true
      const t0 = performance.now()
      const { filter: f, sort: s } = JSON.parse(key) as { filter: RunFilter; sort: { by: string; desc: boolean } }
      api.call('runs.query', { filter: f, sort: s, offset, limit: PAGE }).then(
        (page) => {
          if (gen !== generation.current) return
          loading.current = false
          setMs(performance.now() - t0)
          setTotal(page.total)
          setError(undefined)
          setRuns((prev) => (replace ? page.runs : [...prev.slice(0, offset), ...page.runs]))
        },
        (err: unknown) => {
          loading.current = false
          if (gen === generation.current) setError(asApiError(err))
        },
      )
    },
    [api, key],
  )
  useEffect(() => load(0, true), [load])
  useEvents(useCallback((e) => (e.type === 'runs.changed' || (e.type === 'job' && e.job.status !== 'running') ? load(0, true) : undefined), [load]))
  const more = useCallback(() => {
    if (!loading.current) load(runs.length, false)
  }, [load, runs.length])
  return { runs, total, error, ms, more, reload: () => load(0, true) }
}
