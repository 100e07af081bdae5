import type { CallResponse, Input, Method, MigLabApi, Results, ServerMessage } from '../../shared/api'
import type { ApiError } from '../../shared/errors'
import type { ApiEvent, EventListener } from '../../shared/events'
import { decodeTerminalFrame } from '../../shared/terminal-frame'

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

const TOKEN_KEY = 'miglab.token'
const noToken = () =>
  new CallError({ code: 'no_token', message: 'This address has no access token.', detail: { hint: 'Open the full address `miglab serve` printed (it ends with #token=…).' } })

/**
 * The session token, from wherever this page got it: `#token=` (the address `miglab serve` printed),
 * `#code=` (a one-time code the opener used, traded here for the token), or this tab's
 * sessionStorage (a reload). The fragment is removed from the address bar and this history entry at
 * once, so the token is neither shown, bookmarked nor shared with a screenshot.
 */
export function sessionToken(): Promise<string> {
  const fragment = new URLSearchParams(location.hash.slice(1))
  const given = fragment.get('token')
  const code = fragment.get('code')
  if (given || code) history.replaceState(history.state, '', `${location.pathname}${location.search}`)
  const keep = (token: string) => {
    try {
      sessionStorage.setItem(TOKEN_KEY, token)
    } catch {
      // storage disabled: this tab works until it is reloaded
    }
    return token
  }
  if (given) return Promise.resolve(keep(given))
  if (code) {
    return fetch('/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) }).then(async (r) => {
      if (!r.ok) throw new CallError({ code: 'code_refused', message: await r.text(), detail: { hint: 'Open the full address `miglab serve` printed (it ends with #token=…).' } })
      return keep(((await r.json()) as { token: string }).token)
    })
  }
  let stored: string | null = null
  try {
    stored = sessionStorage.getItem(TOKEN_KEY)
  } catch {
    // storage disabled
  }
  return stored ? Promise.resolve(stored) : Promise.reject(noToken())
}

function fromBase64(base64: string): Uint8Array {
  const bin = atob(base64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/**
 * How terminals render and receive output. The defaults are the fast path; `localStorage
 * ['miglab.terminal.tuning']` (JSON) switches parts back one at a time, which is how
 * bench/terminal.ts measures what each part is worth: `renderer` 'auto' (WebGL on a GPU, else the
 * DOM renderer) | 'dom' | 'webgl' (also on a software rasteriser); `batch` true (coalesce chunks per animation frame before
 * xterm.write) | false; `wire` 'binary' (binary WebSocket frames) | 'base64' (base64 in JSON);
 * `paceMs` (50: during a burst, one write and so one render per 50 ms; 0: one per frame);
 * `ackBytes` (64 KiB).
 */
export interface TerminalTuning {
  renderer: 'auto' | 'dom' | 'webgl'
  batch: boolean
  wire: 'binary' | 'base64'
  /** During a burst, at most one write (hence one render) per this many ms. */
  paceMs: number
  /** Bytes xterm.js has written before the page acknowledges them. */
  ackBytes: number
}

export function terminalTuning(): TerminalTuning {
  const fallback: TerminalTuning = { renderer: 'auto', batch: true, wire: 'binary', paceMs: 50, ackBytes: 64 * 1024 }
  try {
    const given = JSON.parse(localStorage.getItem('miglab.terminal.tuning') ?? '{}') as Partial<TerminalTuning>
    return {
      renderer: given.renderer === 'dom' || given.renderer === 'webgl' ? given.renderer : 'auto',
      batch: given.batch !== false,
      wire: given.wire === 'base64' ? 'base64' : 'binary',
      paceMs: typeof given.paceMs === 'number' ? given.paceMs : fallback.paceMs,
      ackBytes: typeof given.ackBytes === 'number' ? given.ackBytes : fallback.ackBytes,
    }
  } catch {
    return fallback
  }
}

/** Browser door: the same contract over a WebSocket, authenticated by the session token. */
function browserClient(tokenPromise: Promise<string>): MigLabApi {
  // Settled once; a refused code or a missing token surfaces on the first call, as that call's error.
  tokenPromise.catch(() => undefined)
  const listeners = new Set<EventListener>()
  const pending = new Map<number, (r: CallResponse) => void>()
  let nextId = 1
  let socket: Promise<WebSocket> | undefined

  const connect = (): Promise<WebSocket> => {
    socket ??= tokenPromise.then((token) => new Promise<WebSocket>((resolve, reject) => {
      const legacy = terminalTuning().wire === 'base64' ? '&terminalData=base64' : ''
      const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}${legacy}`)
      ws.binaryType = 'arraybuffer'
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
        // Binary frames carry terminal output only; everything else is JSON text.
        if (msg.data instanceof ArrayBuffer) {
          const event = decodeTerminalFrame(new Uint8Array(msg.data))
          if (event) for (const l of listeners) l(event)
          return
        }
        const data = JSON.parse(String(msg.data)) as ServerMessage
        // terminalData=base64 (the bench's comparison): the bytes came as base64 text.
        if (data.kind === 'event' && data.event.type === 'terminal.data') {
          const given: unknown = data.event.data
          if (typeof given === 'string') data.event = { ...data.event, data: fromBase64(given) }
        }
        if (data.kind === 'event') for (const l of listeners) l(data.event)
        else {
          pending.get(data.id)?.(data)
          pending.delete(data.id)
        }
      }
    }))
    socket.catch(() => {
      socket = undefined
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

/** The client for this window: the desktop bridge, or the browser door once the token is known. */
export async function createClient(): Promise<MigLabApi> {
  if (window.miglab) return desktopClient(window.miglab)
  return browserClient(Promise.resolve(await sessionToken()))
}
