import type { CallResponse, Input, Method, MigLabApi, Results, ServerMessage } from '../../shared/api'
import type { ApiError } from '../../shared/errors'
import type { ApiEvent, EventListener } from '../../shared/events'

/** A failed call, as thrown to the UI: the door's `{code, message, detail}`. */
export class CallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message)
  }
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: ApiError }

interface DesktopBridge {
  call(method: string, input: unknown): Promise<Outcome>
  subscribe(listener: (event: ApiEvent) => void): () => void
}

declare global {
  interface Window {
    miglab?: DesktopBridge
  }
}

function unwrap<T>(outcome: Outcome): T {
  if (!outcome.ok) throw new CallError(outcome.error)
  return outcome.result as T
}

/** Desktop door: the preload's bridge over IPC. */
function desktopClient(bridge: DesktopBridge): MigLabApi {
  return {
    call: async <M extends Method>(method: M, input: Input<M>) => unwrap<Results[M]>(await bridge.call(method, input)),
    subscribe: (listener) => bridge.subscribe(listener),
  }
}

/** Browser door: the same contract over a WebSocket, authenticated by the token in the URL fragment. */
function browserClient(token: string): MigLabApi {
  const listeners = new Set<EventListener>()
  const pending = new Map<number, (r: CallResponse) => void>()
  let nextId = 1
  let socket: Promise<WebSocket> | undefined

  const connect = (): Promise<WebSocket> => {
    socket ??= new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`)
      ws.onopen = () => resolve(ws)
      ws.onerror = () => reject(new CallError({ code: 'disconnected', message: 'Cannot reach MigLab.', detail: { hint: 'Is `miglab serve` still running? Open the address it printed.' } }))
      ws.onclose = () => {
        socket = undefined
        for (const [id, settle] of pending) settle({ id, ok: false, error: { code: 'disconnected', message: 'The connection to MigLab closed.' } })
        pending.clear()
        // Reconnect so events keep flowing after a restart of the server.
        if (listeners.size) setTimeout(() => void connect().catch(() => undefined), 1000)
      }
      ws.onmessage = (msg) => {
        const data = JSON.parse(String(msg.data)) as ServerMessage
        if (data.kind === 'event') for (const l of listeners) l(data.event)
        else {
          pending.get(data.id)?.(data)
          pending.delete(data.id)
        }
      }
    })
    return socket
  }

  return {
    call: async <M extends Method>(method: M, input: Input<M>) => {
      const ws = await connect()
      const id = nextId++
      const response = await new Promise<CallResponse>((resolve) => {
        pending.set(id, resolve)
        ws.send(JSON.stringify({ id, method, input }))
      })
      return unwrap<Results[M]>(response)
    },
    subscribe: (listener) => {
      listeners.add(listener)
      void connect().catch(() => undefined)
      return () => listeners.delete(listener)
    },
  }
}

export function createClient(): MigLabApi {
  if (window.miglab) return desktopClient(window.miglab)
  const token = new URLSearchParams(location.hash.slice(1)).get('token')
  if (!token) throw new CallError({ code: 'no_token', message: 'This address has no access token.', detail: { hint: 'Open the full address `miglab serve` printed (it ends with #token=…).' } })
  return browserClient(token)
}
