import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import type { CallRequest, ServerMessage } from '../../shared/api'
import { MigLabError } from '../../shared/errors'
import type { Core } from '../core'
import { dispatch } from './dispatch'

export interface BrowserDoorOptions {
  core: Core
  /** The built renderer (out/renderer). */
  rendererDir: string
  /** 0 picks a free port. */
  port?: number
}

export interface BrowserDoor {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
}

function sameSecret(given: string | null, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Browser mode: the renderer over HTTP and the contract over a WebSocket, on 127.0.0.1 only.
 * The token (in the URL fragment, so it never reaches logs or Referer headers) gates the socket;
 * Host and Origin checks stop other sites and DNS rebinding from reaching it.
 */
export async function openBrowserDoor(options: BrowserDoorOptions): Promise<BrowserDoor> {
  const { core, rendererDir } = options
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new MigLabError('renderer_missing', `The built renderer is missing (${rendererDir}).`, { hint: 'Run `npm run build` first.' })
  }
  const token = randomBytes(24).toString('base64url')
  let port = 0
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`]
  const hostAllowed = (req: IncomingMessage) => allowedHosts().includes(req.headers.host ?? '')
  const originAllowed = (req: IncomingMessage) => allowedHosts().some((h) => req.headers.origin === `http://${h}`)

  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req)) {
      res.writeHead(403).end('Forbidden host')
      return
    }
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(rendererDir, urlPath === '/' ? 'index.html' : urlPath))
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('Not found')
      return
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    createReadStream(file).pipe(res)
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/api' || !hostAllowed(req) || !originAllowed(req) || !sameSecret(url.searchParams.get('token'), token)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, core))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function serveSocket(ws: WebSocket, core: Core): void {
  const send = (msg: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg))
  }
  const unsubscribe = core.subscribe((event) => send({ kind: 'event', event }))
  ws.on('close', unsubscribe)
  ws.on('message', async (data) => {
    let req: CallRequest
    try {
      req = JSON.parse(data.toString()) as CallRequest
      if (typeof req.id !== 'number') throw new Error('no id')
    } catch {
      ws.close(1003, 'malformed request')
      return
    }
    send({ kind: 'response', id: req.id, ...(await dispatch(core.handlers, req.method, req.input)) })
  })
}
