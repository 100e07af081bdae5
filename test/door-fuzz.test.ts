import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openBrowserDoor, type BrowserDoor } from '../src/main/doors/http-ws'
import { MAX_FRAME_BYTES, MAX_TRANSCRIPT_CHARS } from '../src/shared/limits'
import { tempCore, tempDir } from './helpers'

/**
 * Malformed requests and frames over raw TCP: nothing between the test and the server normalises
 * a path, fixes a header or masks a frame. After each one, the server must still answer a good
 * request — one stray packet must never take down the experiments `miglab serve` runs.
 */

let door: BrowserDoor
let dispose: () => Promise<void>
const doorLog: string[] = []

beforeAll(async () => {
  const t = tempCore()
  dispose = t.dispose
  const rendererDir = join(tempDir(), 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>MigLab</title>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(rendererDir, '..', 'secret.txt'), 'outside the renderer')
  door = await openBrowserDoor({ core: t.core, rendererDir, port: 0, log: (m) => doorLog.push(m) })
})
afterAll(async () => {
  await door.close()
  await dispose()
})

const host = () => `127.0.0.1:${door.port}`
const origin = () => `http://${host()}`

/** Writes bytes on a fresh TCP connection; resolves with everything read until the server closes or `waitMs` passes. */
function raw(bytes: Buffer | string | (Buffer | string)[], waitMs = 1500, done?: (soFar: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(door.port, '127.0.0.1')
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(Buffer.concat(chunks))
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (d) => {
      chunks.push(d)
      if (done?.(Buffer.concat(chunks))) finish()
    })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish() : reject(err)))
    socket.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) socket.write(b)
    })
  })
}

const statusOf = (reply: Buffer): number | null => {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(reply.subarray(0, 64).toString('latin1'))
  return m ? Number(m[1]) : null
}

async function goodRequestAnswered(): Promise<void> {
  const reply = await raw(`GET /assets/app.js HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`)
  expect(statusOf(reply)).toBe(200)
  expect(reply.toString()).toContain('console.log(1)')
}

// ── WebSocket by hand ────────────────────────────────────────────────────────────────────────────

interface FrameOptions {
  fin?: boolean
  mask?: boolean
  rsv?: number
  /** Claimed payload length, when it should differ from the bytes sent. */
  claimedLength?: number
}

function frame(opcode: number, payload: Buffer | string, o: FrameOptions = {}): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
  const length = o.claimedLength ?? data.length
  const mask = o.mask ?? true
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode]
  const m = mask ? 0x80 : 0
  let ext = Buffer.alloc(0)
  if (length < 126) head.push(m | length)
  else if (length < 65536) {
    head.push(m | 126)
    ext = Buffer.alloc(2)
    ext.writeUInt16BE(length)
  } else {
    head.push(m | 127)
    ext = Buffer.alloc(8)
    ext.writeBigUInt64BE(BigInt(length))
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, data])
  const key = randomBytes(4)
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]))
  return Buffer.concat([Buffer.from(head), ext, key, masked])
}

const text = (s: string, o?: FrameOptions) => frame(0x1, s, o)

function upgradeRequest(path = `/api?token=${door.token}`, headers: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = {
    Host: host(),
    Origin: origin(),
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  }
  return `GET ${path} HTTP/1.1\r\n${Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`
}

/** Server frames after the 101 response: text messages and the close code, if any. */
function serverFrames(reply: Buffer): { status: number | null; texts: string[]; closeCode?: number } {
  const status = statusOf(reply)
  const texts: string[] = []
  let closeCode: number | undefined
  let at = reply.indexOf('\r\n\r\n')
  if (status !== 101 || at < 0) return { status, texts }
  at += 4
  while (at + 2 <= reply.length) {
    const opcode = reply[at] & 0x0f
    let len = reply[at + 1] & 0x7f
    let off = at + 2
    if (len === 126) {
      len = reply.readUInt16BE(off)
      off += 2
    } else if (len === 127) {
      len = Number(reply.readBigUInt64BE(off))
      off += 8
    }
    const payload = reply.subarray(off, off + len)
    if (opcode === 0x1) texts.push(payload.toString())
    if (opcode === 0x8) closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
    at = off + len
  }
  return { status, texts, closeCode }
}

/** Handshake, then `frames`; reads until the server sends a close frame or a response, or 3 s pass. */
async function afterHandshake(frames: Buffer[]) {
  const answered = (b: Buffer) => {
    try {
      const f = serverFrames(b)
      return f.closeCode !== undefined || f.texts.some((t) => t.includes('"kind":"response"'))
    } catch {
      return false // a frame cut in two: wait for the rest
    }
  }
  return serverFrames(await raw([upgradeRequest(), ...frames], 3000, answered))
}

// ── the corpus ───────────────────────────────────────────────────────────────────────────────────

type Expect = { status: number | number[] } | { close: number | number[] } | { error: string }

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${'HOST'}\r\n${extra}Connection: close\r\n\r\n`
const withHost = (s: string) => s.replaceAll('HOST', host())

const httpCases: [name: string, request: () => string | Buffer | (string | Buffer)[], expected: number | number[]][] = [
  ['bad percent-encoding /%E0', () => withHost(get('/%E0')), 400],
  ['empty path //', () => withHost(get('//')), 400],
  ['truncated escape /%', () => withHost(get('/%')), 400],
  ['non-hex escape /%zz', () => withHost(get('/%zz')), 400],
  ['overlong UTF-8 dots /%C0%AE%C0%AE/secret.txt', () => withHost(get('/%C0%AE%C0%AE/secret.txt')), 400],
  ['NUL byte /%00', () => withHost(get('/assets/app.js%00.png')), 400],
  ['raw traversal /../secret.txt', () => withHost(get('/../secret.txt')), 400],
  ['encoded traversal /%2e%2e/secret.txt', () => withHost(get('/%2e%2e/secret.txt')), 400],
  ['upper-case encoded traversal /%2E%2E/secret.txt', () => withHost(get('/%2E%2E/secret.txt')), 400],
  ['nested traversal /assets/../../secret.txt', () => withHost(get('/assets/../../secret.txt')), 400],
  ['encoded slash /..%2fsecret.txt', () => withHost(get('/..%2fsecret.txt')), 400],
  ['fully encoded /%2e%2e%2fsecret.txt', () => withHost(get('/%2e%2e%2fsecret.txt')), 400],
  ['dot segment /./index.html', () => withHost(get('/./index.html')), 400],
  ['backslash /..%5csecret.txt', () => withHost(get('/..%5csecret.txt')), 400],
  ['double slash /assets//app.js', () => withHost(get('/assets//app.js')), 400],
  ['absolute-form target', () => withHost(get('http://evil.example/index.html')), 400],
  ['asterisk target', () => withHost(get('*')), 400],
  ['relative target', () => withHost(get('index.html')), 400],
  ['100 KB request target', () => withHost(get('/' + 'a'.repeat(100_000))), [400, 414, 431]],
  ['20 KB header', () => withHost(get('/', `X-Big: ${'b'.repeat(20_000)}\r\n`)), 431],
  ['500 headers', () => withHost(get('/', Array.from({ length: 500 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}\r\n`).join(''))), [400, 431]],
  ['header without colon', () => withHost(get('/', 'NoColonHere\r\n')), 400],
  ['header with NUL', () => withHost(get('/', 'X-A: a\0b\r\n')), 400],
  ['garbage request line', () => 'HELLO THERE\r\n\r\n', 400],
  ['binary junk', () => randomBytes(512), 400],
  ['unknown method FROB', () => withHost(`FROB / HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n`), 400],
  ['DELETE /', () => withHost(`DELETE / HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n`), 405],
  ['PUT / with body', () => withHost(`PUT /index.html HTTP/1.1\r\nHost: HOST\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`), 405],
  ['OPTIONS *', () => withHost(`OPTIONS * HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n`), 405],
  ['TRACE /', () => withHost(`TRACE / HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n`), 405],
  ['POST / (not /session)', () => withHost(`POST / HTTP/1.1\r\nHost: HOST\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), 405],
  ['HTTP/2 preface', () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [400, 505]],
  ['HTTP/0.9 request', () => 'GET /\r\n\r\n', [400, 403]],
  ['unsupported version HTTP/9.9', () => withHost(`GET / HTTP/9.9\r\nHost: HOST\r\n\r\n`), [400, 505]],
  ['no Host header (HTTP/1.0)', () => 'GET / HTTP/1.0\r\n\r\n', 403],
  ['foreign Host (DNS rebinding)', () => `GET / HTTP/1.1\r\nHost: evil.example:${door.port}\r\nConnection: close\r\n\r\n`, 403],
  ['two Host headers', () => withHost(`GET / HTTP/1.1\r\nHost: HOST\r\nHost: evil.example\r\nConnection: close\r\n\r\n`), [400, 403]],
  ['Content-Length with Transfer-Encoding', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`), 400],
  ['bad chunked body', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n0\r\n\r\n`), 400],
  ['negative Content-Length', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nContent-Length: -1\r\n\r\n`), 400],
  ['/session: bad JSON', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{"code":`), 400],
  ['/session: JSON null', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnull`), 400],
  ['/session: wrong code', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"code":"nope"}`), 403],
  ['/session: no Origin', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), 403],
  ['/session: foreign Origin', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://evil.example\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), 403],
  ['/session: 64 KB body', () => withHost(`POST /session HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nContent-Length: 65536\r\n\r\n${'x'.repeat(65536)}`), 413],
  // Upgrade requests that must be refused before any WebSocket exists.
  ['upgrade without token', () => upgradeRequest('/api'), 403],
  ['upgrade with a wrong token', () => upgradeRequest('/api?token=wrong'), 403],
  ['upgrade with a token one character short', () => upgradeRequest(`/api?token=${door.token.slice(0, -1)}`), 403],
  ['upgrade with the token but no Origin', () => upgradeRequest(undefined, { Origin: undefined }), 403],
  ['upgrade with the token from a foreign Origin', () => upgradeRequest(undefined, { Origin: 'http://evil.example' }), 403],
  ['upgrade with the token on a foreign Host', () => upgradeRequest(undefined, { Host: 'evil.example' }), 403],
  ['upgrade on a bad path /api%E0', () => upgradeRequest(`/api%E0?token=${door.token}`), 403],
  ['upgrade on //', () => upgradeRequest('//'), 403],
  ['upgrade on /../api', () => upgradeRequest(`/../api?token=${door.token}`), 403],
  ['upgrade with bad percent-encoding in the query', () => upgradeRequest(`/api?token=%E0${door.token}`), 403],
  ['upgrade without Sec-WebSocket-Key', () => upgradeRequest(undefined, { 'Sec-WebSocket-Key': undefined }), 400],
  ['upgrade with a malformed key', () => upgradeRequest(undefined, { 'Sec-WebSocket-Key': 'short' }), 400],
  ['upgrade with version 99', () => upgradeRequest(undefined, { 'Sec-WebSocket-Version': '99' }), [400, 426]],
  ['upgrade to h2c', () => upgradeRequest(undefined, { Upgrade: 'h2c' }), 400],
  ['upgrade with an unknown extension offer', () => upgradeRequest(undefined, { 'Sec-WebSocket-Extensions': 'x-evil; a=%%' }), 101],
]

const frameCases: [name: string, frames: () => Buffer[], expected: Expect][] = [
  ['text that is not JSON', () => [text('not json')], { close: 1003 }],
  ['JSON without an id', () => [text('{"method":"labs.list"}')], { close: 1003 }],
  ['JSON null', () => [text('null')], { close: 1003 }],
  ['JSON array', () => [text('[1,2]')], { close: 1003 }],
  ['id that is not a number', () => [text('{"id":"1","method":"labs.list"}')], { close: 1003 }],
  ['binary frame', () => [frame(0x2, '{"id":1,"method":"labs.list"}')], { close: 1003 }],
  ['unknown method', () => [text('{"id":1,"method":"labs.frobnicate"}')], { error: 'unknown_method' }],
  ['__proto__ as method', () => [text('{"id":1,"method":"__proto__","input":{}}')], { error: 'unknown_method' }],
  ['toString as method', () => [text('{"id":1,"method":"toString"}')], { error: 'unknown_method' }],
  ['input of the wrong type', () => [text('{"id":1,"method":"labs.create","input":"lab"}')], { error: 'invalid_input' }],
  ['__proto__ in input', () => [text('{"id":1,"method":"labs.create","input":{"__proto__":{"name":"x"}}}')], { error: 'invalid_input' }],
  ['transcript one character over the cap', () => [text(JSON.stringify({ id: 1, method: 'terminals.saveTranscript', input: { nodeId: 1, title: 't', text: 'a'.repeat(MAX_TRANSCRIPT_CHARS + 1) } }))], { error: 'invalid_input' }],
  ['invalid UTF-8 in a text frame', () => [frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))], { close: 1007 }],
  ['frame claiming more than maxPayload', () => [frame(0x1, 'x'.repeat(1024), { claimedLength: MAX_FRAME_BYTES + 1 })], { close: 1009 }],
  ['fragments adding up past maxPayload', () => [text('x'.repeat(MAX_FRAME_BYTES / 2 + 1), { fin: false }), frame(0x0, 'x'.repeat(MAX_FRAME_BYTES / 2 + 1))], { close: 1009 }],
  ['unmasked client frame', () => [text('{"id":1,"method":"labs.list"}', { mask: false })], { close: 1002 }],
  ['reserved opcode 0x3', () => [frame(0x3, 'x')], { close: 1002 }],
  ['RSV1 without an extension', () => [text('{}', { rsv: 4 })], { close: 1002 }],
  ['ping longer than 125 bytes', () => [frame(0x9, 'p'.repeat(200))], { close: 1002 }],
  ['fragmented ping', () => [frame(0x9, 'p', { fin: false })], { close: 1002 }],
  ['continuation without a start', () => [frame(0x0, 'orphan')], { close: 1002 }],
  ['close with a reserved code', () => [frame(0x8, Buffer.from([0x03, 0xed]))], { close: 1002 }],
  ['close with a one-byte payload', () => [frame(0x8, Buffer.from([0x03]))], { close: 1002 }],
]

describe('browser door under malformed input (raw sockets)', () => {
  it('has at least 50 malformed requests and frames', () => {
    expect(httpCases.length + frameCases.length).toBeGreaterThanOrEqual(50)
  })

  for (const [name, request, expected] of httpCases) {
    it(`HTTP: ${name} → ${String(expected)}, and the server keeps serving`, async () => {
      const reply = await raw(request())
      expect([expected].flat()).toContain(statusOf(reply))
      expect(reply.toString('latin1')).not.toContain('outside the renderer')
      await goodRequestAnswered()
    })
  }

  for (const [name, frames, expected] of frameCases) {
    it(`WebSocket: ${name} → ${JSON.stringify(expected)}, and the server keeps serving`, async () => {
      const got = await afterHandshake(frames())
      expect(got.status).toBe(101)
      if ('close' in expected) expect([expected.close].flat()).toContain(got.closeCode)
      else if ('error' in expected) {
        const response = got.texts.map((t) => JSON.parse(t) as { kind: string; ok?: boolean; error?: { code: string } }).find((m) => m.kind === 'response')
        expect(response).toMatchObject({ ok: false, error: { code: expected.error } })
      }
      await goodRequestAnswered()
    })
  }

  it('a good call still works over a fresh socket after all of that', async () => {
    const got = await afterHandshake([text('{"id":42,"method":"labs.list","input":{}}')])
    expect(got.texts.map((t) => JSON.parse(t) as unknown)).toContainEqual({ kind: 'response', id: 42, ok: true, result: [] })
    expect(doorLog).toEqual([])
  })

  it('a one-time opening code is traded for the token once, then refused', async () => {
    const code = new URL(door.oneTimeUrl()).hash.replace('#code=', '')
    const body = JSON.stringify({ code })
    const post = () => raw(`POST /session HTTP/1.1\r\nHost: ${host()}\r\nOrigin: ${origin()}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
    const first = await post()
    expect(statusOf(first)).toBe(200)
    expect(first.toString()).toContain(JSON.stringify({ token: door.token }))
    expect(statusOf(await post())).toBe(403)
    expect(door.oneTimeUrl()).not.toContain(door.token)
  })
})
