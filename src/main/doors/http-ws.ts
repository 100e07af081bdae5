import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { extname, join, resolve, sep } from 'node:path'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import type { CallRequest, ServerMessage } from '../../shared/api'
import { MigLabError } from '../../shared/errors'
import { MAX_FRAME_BYTES } from '../../shared/limits'
import { encodeTerminalFrame } from '../../shared/terminal-frame'
import type { Core } from '../core'
import { dispatch } from './dispatch'

export interface BrowserDoorOptions {
  core: Core
  /** The built renderer (out/renderer). */
  rendererDir: string
  /** 0 picks a free port. */
  port?: number
  /** Where a door problem is reported (a refused request is not one; a crashed handler is). */
  log?: (message: string) => void
}

export interface BrowserDoor {
  /** The address with the token in its fragment: print it to the user, never pass it on a command line. */
  url: string
  port: number
  token: string
  /**
   * A token-free address for opening a browser: `#code=` carries a one-time code (valid 2 min, one
   * exchange) that the page trades for the token over POST /session. Once used it is worth nothing,
   * so it may sit in a process list or browser history.
   */
  oneTimeUrl(): string
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

export const CODE_TTL_MS = 120_000
const SESSION_BODY_MAX = 1024

function sameSecret(given: string | null | undefined, secret: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(secret)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The renderer file a request path names, or why not. Works on the raw request target (no URL
 * parser normalises it first): percent-decoding must succeed, and no segment may be empty, `.` or
 * `..` — before or after decoding — nor hold a backslash or NUL.
 */
export function resolveStatic(rendererDir: string, target: string): { file: string } | { status: 400 | 404; reason: string } {
  const path = target.split(/[?#]/, 1)[0]
  if (!path.startsWith('/')) return { status: 400, reason: 'the request target must be an absolute path' }
  if (path === '/') return { file: join(rendererDir, 'index.html') }
  const segments = path.slice(1).split('/')
  const decoded: string[] = []
  for (const raw of segments) {
    let seg: string
    try {
      seg = decodeURIComponent(raw)
    } catch {
      return { status: 400, reason: 'bad percent-encoding' }
    }
    if (raw === '' || seg === '' || seg === '.' || seg === '..' || /[\\/\0]/.test(seg)) return { status: 400, reason: 'bad path segment' }
    decoded.push(seg)
  }
  const root = resolve(rendererDir)
  const file = resolve(root, ...decoded)
  if (!file.startsWith(root + sep)) return { status: 400, reason: 'outside the renderer' }
  return { file }
}

/**
 * Browser mode: the renderer over HTTP and the contract over a WebSocket, on 127.0.0.1 only.
 * The token (in the URL fragment, so it never reaches logs or Referer headers) gates the socket;
 * Host and Origin checks stop other sites and DNS rebinding from reaching it. Every handler answers
 * a bad request with 400 (or closes the socket) instead of throwing: one stray request must never
 * take down the experiments this process runs.
 */
export async function openBrowserDoor(options: BrowserDoorOptions): Promise<BrowserDoor> {
  const { core, rendererDir } = options
  const log = options.log ?? ((m: string) => console.error(`MigLab browser door: ${m}`))
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new MigLabError('renderer_missing', `The built renderer is missing (${rendererDir}).`, { hint: 'Run `npm run build` first.' })
  }
  const token = randomBytes(24).toString('base64url')
  const codes = new Map<string, number>()
  let port = 0
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`]
  // Node keeps the first of two Host headers; a request with two is refused outright.
  const hostAllowed = (req: IncomingMessage) =>
    allowedHosts().includes(req.headers.host ?? '') && req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'host').length === 1
  const originAllowed = (req: IncomingMessage) => allowedHosts().some((h) => req.headers.origin === `http://${h}`)

  const answer = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    if (res.headersSent) return void res.destroy()
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close', ...headers }).end(body)
  }

  /** POST /session {"code"}: trades a one-time code for the token, same origin only. */
  const exchange = (req: IncomingMessage, res: ServerResponse) => {
    if (!originAllowed(req)) return answer(res, 403, 'Forbidden origin')
    let body = ''
    let tooBig = false
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > SESSION_BODY_MAX && !tooBig) {
        tooBig = true
        answer(res, 413, 'Too large')
        req.destroy()
      }
    })
    req.on('end', () => {
      if (tooBig) return
      let code: unknown
      try {
        code = (JSON.parse(body) as { code?: unknown }).code
      } catch {
        return answer(res, 400, 'Bad JSON')
      }
      const now = Date.now()
      for (const [c, expires] of codes) if (expires < now) codes.delete(c)
      const match = typeof code === 'string' ? [...codes.keys()].find((c) => sameSecret(code, c)) : undefined
      if (!match) return answer(res, 403, 'This opening link was already used or has expired; open the address `miglab serve` printed.')
      codes.delete(match)
      answer(res, 200, JSON.stringify({ token }), { 'Content-Type': 'application/json' })
    })
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req)) return answer(res, 403, 'Forbidden host')
    const target = req.url ?? '/'
    if (req.method === 'POST' && target === '/session') return exchange(req, res)
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' })
    const found = resolveStatic(rendererDir, target)
    if ('status' in found) return answer(res, found.status, found.status === 400 ? `Bad request: ${found.reason}` : 'Not found')
    const { file } = found
    if (!existsSync(file) || !statSync(file).isFile()) return answer(res, 404, 'Not found')
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    if (req.method === 'HEAD') return void res.end()
    const stream = createReadStream(file)
    stream.on('error', () => res.destroy())
    stream.pipe(res)
  }

  const server: Server = createServer((req, res) => {
    req.on('error', () => res.destroy())
    res.on('error', () => res.destroy())
    try {
      handle(req, res)
    } catch (err) {
      log(`request ${JSON.stringify(req.method)} ${JSON.stringify(req.url)} failed: ${err instanceof Error ? err.message : String(err)}`)
      answer(res, 400, 'Bad request')
    }
  })
  // Requests Node's parser refuses (bad request line, huge headers, unknown methods): answer, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.writable && !(socket as Socket).writableEnded) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    } else socket.destroy()
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })
  wss.on('error', (err) => log(`WebSocket server: ${err.message}`))
  const refuse = (socket: Duplex, status: string) => {
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    else socket.destroy()
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    try {
      const target = req.url ?? ''
      const query = target.startsWith('/api?') ? new URLSearchParams(target.slice(5)) : undefined
      if (!query || !hostAllowed(req) || !originAllowed(req) || !sameSecret(query.get('token'), token)) return refuse(socket, '403 Forbidden')
      // `terminalData=base64`: terminal output as base64 in JSON events (the wire before binary frames; kept for the terminal bench's comparison).
      const base64 = query.get('terminalData') === 'base64'
      wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, core, log, base64))
    } catch (err) {
      log(`upgrade ${JSON.stringify(req.url)} failed: ${err instanceof Error ? err.message : String(err)}`)
      refuse(socket, '400 Bad Request')
    }
  })
  server.on('error', (err) => log(`HTTP server: ${err.message}`))

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    oneTimeUrl: () => {
      const code = randomBytes(18).toString('base64url')
      codes.set(code, Date.now() + CODE_TTL_MS)
      return `http://127.0.0.1:${port}/#code=${code}`
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function serveSocket(ws: WebSocket, core: Core, log: (m: string) => void, terminalBase64 = false): void {
  const send = (msg: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return
    if (msg.kind === 'event' && msg.event.type === 'terminal.data') {
      const { id, data } = msg.event
      if (!terminalBase64) return ws.send(encodeTerminalFrame(id, data), { binary: true }, (err) => err && ws.terminate())
      const base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')
      return ws.send(JSON.stringify({ kind: 'event', event: { type: 'terminal.data', id, data: base64 } }), (err) => err && ws.terminate())
    }
    let text: string
    try {
      text = JSON.stringify(msg)
    } catch (err) {
      // A result that cannot be serialised is the core's bug; the caller still gets an answer.
      if (msg.kind !== 'response') return log(`event not sent: ${err instanceof Error ? err.message : String(err)}`)
      text = JSON.stringify({ kind: 'response', id: msg.id, ok: false, error: { code: 'internal', message: 'The result could not be sent.' } })
    }
    ws.send(text, (err) => err && ws.terminate())
  }
  // Oversize frames (1009), bad UTF-8, broken sockets: ws reports them here and closes; never rethrow.
  ws.on('error', () => ws.terminate())
  // One socket, one session: it hears its own terminals only, and they close when it does (a closed tab leaves no shell behind).
  const caller = { session: `ws:${randomUUID()}` }
  const unsubscribe = core.subscribe((event) => send({ kind: 'event', event }), caller.session)
  ws.on('close', () => {
    unsubscribe()
    core.endSession(caller.session)
  })
  ws.on('message', (data: RawData, isBinary: boolean) => {
    let req: CallRequest
    try {
      if (isBinary) throw new Error('binary frame')
      req = JSON.parse(data.toString()) as CallRequest
      if (!req || typeof req !== 'object' || typeof req.id !== 'number' || !Number.isFinite(req.id)) throw new Error('no id')
    } catch {
      ws.close(1003, 'malformed request')
      return
    }
    dispatch(core.handlers, req.method, req.input, caller).then(
      (outcome) => send({ kind: 'response', id: req.id, ...outcome }),
      (err: unknown) => log(`dispatch failed: ${err instanceof Error ? err.message : String(err)}`),
    )
  })
}
