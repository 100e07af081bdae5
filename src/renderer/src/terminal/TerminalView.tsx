import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon } from '@xterm/addon-search'
import { SerializeAddon } from '@xterm/addon-serialize'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useEffect, useRef, useState } from 'react'
import type { ApiError } from '../../../shared/errors'
import { MAX_TRANSCRIPT_CHARS } from '../../../shared/limits'
import { asApiError, useApi } from '../api'
import { ErrorBox } from '../ErrorBox'

const ACK_EVERY = 64 * 1024

function decode(base64: string): Uint8Array {
  const bin = atob(base64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/**
 * One xterm.js terminal bound to a remote pty. Bytes are written as received (xterm decodes UTF-8
 * across chunk boundaries) and acknowledged once rendered, which is what lets the core pause the
 * SSH stream when the page falls behind.
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
    const unsubscribe = api.subscribe((e) => {
      if (e.type === 'terminal.data' && e.id === id) {
        const bytes = decode(e.data)
        xterm.write(bytes, () => {
          written += bytes.length
          host.current?.setAttribute('data-bytes-written', String(written))
          pendingAck += bytes.length
          if (pendingAck >= ACK_EVERY) {
            void api.call('terminals.ack', { id: id!, bytes: pendingAck }).catch(() => undefined)
            pendingAck = 0
          }
        })
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
