import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon } from '@xterm/addon-search'
import { SerializeAddon } from '@xterm/addon-serialize'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { WebglAddon } from '@xterm/addon-webgl'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useEffect, useRef, useState } from 'react'
import type { ApiError } from '../../../shared/errors'
import { MAX_TRANSCRIPT_CHARS } from '../../../shared/limits'
import { asApiError, useApi } from '../api'
import { terminalTuning } from '../client'
import { ErrorBox } from '../ErrorBox'

/**
 * A frame's worth of output at least this big is a burst (a build log, `cat` of a big file): then
 * xterm.js gets one write per `paceMs` instead of one per frame. Each write costs a render of every
 * row (layout, paint, raster), and at 20 instead of 60 renders a second the page spends ~30 % less
 * CPU per MB (bench/terminal.ts). Typing and short output still show on the next frame.
 */
const BURST_BYTES = 32 * 1024

let gpu: boolean | undefined
/**
 * Whether WebGL2 here runs on a GPU. A software rasteriser (SwiftShader, llvmpipe: headless Chromium,
 * a VM without GPU) draws xterm.js's WebGL renderer about half as fast as the DOM renderer
 * (bench/terminal.ts), so 'auto' takes WebGL only on hardware.
 */
function hardwareWebgl(): boolean {
  if (gpu !== undefined) return gpu
  try {
    const gl = document.createElement('canvas').getContext('webgl2')
    const info = gl?.getExtension('WEBGL_debug_renderer_info')
    const name = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : ''
    gl?.getExtension('WEBGL_lose_context')?.loseContext()
    gpu = !!gl && !/swiftshader|llvmpipe|softpipe|software|lavapipe/i.test(name)
  } catch {
    gpu = false
  }
  return gpu
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * One xterm.js terminal bound to a remote pty. Bytes arrive as they were read (xterm decodes UTF-8
 * across chunk boundaries), are coalesced per animation frame into one write, and are acknowledged
 * once xterm.js has parsed them, which is what lets the core pause the SSH stream when the page
 * falls behind. Drawn by the WebGL renderer where the page has WebGL, else by the DOM renderer
 * (`data-renderer` on the host says which).
 */
export function TerminalView({ nodeId, nodeName, active, demoNode = false }: { nodeId: number; nodeName: string; active: boolean; demoNode?: boolean }) {
  const api = useApi()
  const host = useRef<HTMLDivElement>(null)
  const term = useRef<{ xterm: Terminal; fit: FitAddon; search: SearchAddon; serialize: SerializeAddon }>(undefined)
  const [termId, setTermId] = useState<string>()
  const [ended, setEnded] = useState<string>()
  const [error, setError] = useState<ApiError>()
  const [query, setQuery] = useState('')
  const [generation, setGeneration] = useState(0)
  const [saved, setSaved] = useState<string>()

  useEffect(() => {
    const xterm = new Terminal({ fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', fontSize: 13, cursorBlink: true, scrollback: 10_000 })
    const fit = new FitAddon()
    const search = new SearchAddon()
    const serialize = new SerializeAddon()
    xterm.loadAddon(fit)
    xterm.loadAddon(search)
    xterm.loadAddon(serialize)
    xterm.loadAddon(new WebLinksAddon((_e, uri) => window.open(uri, '_blank', 'noopener')))
    xterm.open(host.current!)
    const tuning = terminalTuning()
    const showRenderer = (r: 'webgl' | 'dom') => host.current?.setAttribute('data-renderer', r)
    showRenderer('dom')
    if (tuning.renderer === 'webgl' || (tuning.renderer === 'auto' && hardwareWebgl())) {
      try {
        const webgl = new WebglAddon()
        // A lost context (GPU reset, too many contexts) falls back to the DOM renderer for good.
        webgl.onContextLoss(() => {
          webgl.dispose()
          showRenderer('dom')
        })
        xterm.loadAddon(webgl)
        showRenderer('webgl')
      } catch {
        // no WebGL2 here: the DOM renderer draws
      }
    }
    fit.fit()
    term.current = { xterm, fit, search, serialize }

    // Copy/paste with Ctrl+Shift+C / Ctrl+Shift+V, as terminal users expect (Ctrl+C stays SIGINT).
    xterm.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true
      if (e.code === 'KeyC' && xterm.hasSelection()) {
        void navigator.clipboard.writeText(xterm.getSelection())
        return false
      }
      if (e.code === 'KeyV') {
        void navigator.clipboard.readText().then((t) => xterm.paste(t))
        return false
      }
      return true
    })

    let id: string | undefined
    let pendingAck = 0
    // Bytes xterm.js has finished writing, readable from the DOM (the terminal benchmark compares it with what was sent).
    let written = 0
    let disposed = false
    const write = (bytes: Uint8Array) =>
      xterm.write(bytes, () => {
        written += bytes.length
        host.current?.setAttribute('data-bytes-written', String(written))
        pendingAck += bytes.length
        if (pendingAck >= tuning.ackBytes && id) {
          void api.call('terminals.ack', { id, bytes: pendingAck }).catch(() => undefined)
          pendingAck = 0
        }
      })
    // Chunks that arrived since the last frame, written as one (fewer parser passes and callbacks).
    let queue: Uint8Array[] = []
    let queued = 0
    let scheduled = false
    let lastFlush = 0
    const flush = () => {
      scheduled = false
      if (disposed || !queue.length) return
      const wait = lastFlush + tuning.paceMs - performance.now()
      if (queued >= BURST_BYTES && wait > 0) {
        scheduled = true
        // Into the frame after the pause (a hidden tab has no frames: the timer alone).
        return void setTimeout(() => (document.hidden ? flush() : requestAnimationFrame(flush)), Math.max(0, wait - 8))
      }
      lastFlush = performance.now()
      const bytes = concat(queue, queued)
      queue = []
      queued = 0
      write(bytes)
    }
    const unsubscribe = api.subscribe((e) => {
      if (e.type === 'terminal.data' && e.id === id) {
        if (!tuning.batch) return void write(e.data)
        queue.push(e.data)
        queued += e.data.length
        if (!scheduled) {
          scheduled = true
          // A hidden tab gets no animation frames; a timer keeps its terminal (and its acks) moving.
          if (document.hidden) setTimeout(flush, 50)
          else requestAnimationFrame(flush)
        }
      }
      if (e.type === 'terminal.exit' && e.id === id) setEnded(e.reason)
    })
    const flushAck = setInterval(() => {
      if (id && pendingAck > 0) {
        void api.call('terminals.ack', { id, bytes: pendingAck }).catch(() => undefined)
        pendingAck = 0
      }
    }, 200)
    const input = xterm.onData((data) => id && void api.call('terminals.input', { id, data }).catch((err: unknown) => setError(asApiError(err))))
    const resized = xterm.onResize(({ cols, rows }) => id && void api.call('terminals.resize', { id, cols, rows }).catch(() => undefined))
    const observer = new ResizeObserver(() => host.current?.offsetParent && fit.fit())
    observer.observe(host.current!)

    setEnded(undefined)
    setError(undefined)
    api.call('terminals.open', { nodeId, cols: xterm.cols, rows: xterm.rows }).then(
      (opened) => {
        if (disposed) return void api.call('terminals.close', { id: opened.id })
        id = opened.id
        setTermId(opened.id)
        xterm.focus()
      },
      (err: unknown) => setError(asApiError(err)),
    )
    return () => {
      disposed = true
      unsubscribe()
      clearInterval(flushAck)
      input.dispose()
      resized.dispose()
      observer.disconnect()
      if (id) void api.call('terminals.close', { id }).catch(() => undefined)
      xterm.dispose()
    }
  }, [api, nodeId, generation])

  useEffect(() => {
    if (active) {
      term.current?.fit.fit()
      term.current?.xterm.focus()
    }
  }, [active])

  const saveTranscript = async () => {
    if (!term.current) return
    try {
      // A transcript longer than one frame may carry keeps its most recent part.
      const full = term.current.serialize.serialize()
      const text = full.length > MAX_TRANSCRIPT_CHARS ? full.slice(-MAX_TRANSCRIPT_CHARS) : full
      const { id } = await api.call('terminals.saveTranscript', { nodeId, title: `${nodeName} ${new Date().toLocaleString()}`, text })
      setSaved(`Transcript #${id} saved to the history${text === full ? '' : ' (its most recent part only)'}.`)
    } catch (err) {
      setError(asApiError(err))
    }
  }

  return (
    <div className="terminal" hidden={!active} data-testid="terminal" data-terminal-id={termId}>
      <div className="terminal-bar">
        <input
          aria-label="Search the terminal"
          placeholder="Search…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && (e.shiftKey ? term.current?.search.findPrevious(query) : term.current?.search.findNext(query))}
        />
        <button onClick={() => term.current?.search.findPrevious(query)} aria-label="Previous match">
          ↑
        </button>
        <button onClick={() => term.current?.search.findNext(query)} aria-label="Next match">
          ↓
        </button>
        <button onClick={() => void saveTranscript()}>Save transcript</button>
        {saved && <span className="muted small">{saved}</span>}
      </div>
      {demoNode && (
        <p className="notice" role="note">
          Demo-lab node: a network namespace on this machine, not a VM — this terminal is a root shell on this machine.
        </p>
      )}
      {error && <ErrorBox error={error} />}
      {ended && (
        <div className="notice" role="status">
          {ended} <button onClick={() => setGeneration((g) => g + 1)}>Reconnect</button>
        </div>
      )}
      <div className="xterm-host" ref={host} />
    </div>
  )
}
