import { connect } from 'node:net'
import { waitFor } from '../util/poll'

/** Whether a TCP connection to host:port opens within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Polls until host:port accepts a connection or `timeoutMs` passed. */
export function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return waitFor(() => canConnect(host, port, Math.min(1000, Math.max(50, timeoutMs))), { timeoutMs, intervalMs: 50 })
}
