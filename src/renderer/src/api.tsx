import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react'
import type { Input, Method, MigLabApi, Results } from '../../shared/api'
import type { ApiError } from '../../shared/errors'
import type { ApiEvent } from '../../shared/events'
import { CallError } from './client'

const ApiContext = createContext<MigLabApi | null>(null)

export function ApiProvider({ api, children }: { api: MigLabApi; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>
}

export function useApi(): MigLabApi {
  const api = useContext(ApiContext)
  if (!api) throw new Error('useApi outside ApiProvider')
  return api
}

export const asApiError = (err: unknown): ApiError =>
  err instanceof CallError ? err.error : { code: 'internal', message: err instanceof Error ? err.message : String(err) }

/** Calls the core's event stream listener for as long as the component lives. */
export function useEvents(listener: (event: ApiEvent) => void): void {
  const api = useApi()
  useEffect(() => api.subscribe(listener), [api, listener])
}

/**
 * Loads `method` and reloads it whenever an event passes `refreshOn`.
 * Returns the data, the error of the last attempt, and a reload function.
 */
export function useCall<M extends Method>(method: M, input: Input<M>, refreshOn?: (e: ApiEvent) => boolean) {
  const api = useApi()
  const [data, setData] = useState<Results[M]>()
  const [error, setError] = useState<ApiError>()
  const key = JSON.stringify(input)
  const reload = useCallback(() => {
    api.call(method, JSON.parse(key) as Input<M>).then(
      (result) => {
        setData(result)
        setError(undefined)
      },
      (err: unknown) => setError(asApiError(err)),
    )
  }, [api, method, key])
  useEffect(reload, [reload])
  // Call sites pass a fresh predicate each render; keep the latest without resubscribing.
  const refresh = useRef(refreshOn)
  refresh.current = refreshOn
  useEvents(useCallback((e: ApiEvent) => refresh.current?.(e) && reload(), [reload]))
  return { data, error, reload }
}
