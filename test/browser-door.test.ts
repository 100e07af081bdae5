import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { ServerMessage } from '../src/shared/api'
import type { Core } from '../src/main/core'
import { openBrowserDoor, type BrowserDoor } from '../src/main/doors/http-ws'
import { decodeTerminalFrame, encodeTerminalFrame } from '../src/shared/terminal-frame'
import { tempCore, tempDir } from './helpers'

let door: BrowserDoor
let dispose: () => Promise<void>
let services: () => Core['services']

beforeAll(async () => {
  const t = tempCore()
  dispose = t.dispose
  services = () => t.core.services
  const rendererDir = tempDir()
  mkdirSync(join(rendererDir, 'assets'))
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>MigLab</title>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(rendererDir, '..', 'secret.txt'), 'outside the renderer')
  door = await openBrowserDoor({ core: t.core, rendererDir, port: 0 })
})
afterAll(async () => {
  await door.close()
  await dispose()
})

const origin = () => `http://127.0.0.1:${door.port}`

/** Resolves with the HTTP status of a WebSocket handshake (101 accepted, anything else refused). */
function handshake(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}${path}`, { headers })
    ws.on('open', () => {
      ws.close()
      resolve(101)
    })
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', (err) => (err.message.includes('403') ? resolve(403) : reject(err)))
  })
}

function get(path: string, host?: string): Promise<{ status: number; body: string; csp?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: door.port, path, headers: host ? { host } : {} }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, csp: res.headers['content-security-policy'] as string | undefined }))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * A GET written byte for byte on a raw socket: `http.request`/`fetch` would resolve `/../` before
 * sending, and the guard under test would never see it.
 */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let reply = ''
    const socket = connect(door.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${door.port}\r\nConnection: close\r\n\r\n`))
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (reply += d))
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0), body: reply }))
    socket.on('error', reject)
  })
}

describe('browser door', () => {
  it('listens on 127.0.0.1 only, with the token in the URL fragment', () => {
    expect(door.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${door.port}/#token=[\\w-]{32}$`))
  })

  it('serves the renderer with a CSP, and nothing outside it', async () => {
    const page = await get('/')
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>MigLab</title>')
    expect(page.csp).toContain("default-src 'self'")
    expect((await get('/assets/app.js')).status).toBe(200)
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/%2e%2e%2fsecret.txt']) {
      const reply = await rawGet(path)
      expect(reply.status, path).toBe(400)
      expect(reply.body, path).not.toContain('outside the renderer')
    }
    expect((await rawGet('/assets/app.js')).status).toBe(200)
  })

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get('/', `evil.example:${door.port}`)).status).toBe(403)
  })

  it('refuses the socket without the token, with a wrong token, or from a foreign Origin', async () => {
    expect(await handshake('/api', { Origin: origin() })).toBe(403)
    expect(await handshake('/api?token=wrong', { Origin: origin() })).toBe(403)
    expect(await handshake(`/api?token=${door.token}`, { Origin: 'http://evil.example' })).toBe(403)
    expect(await handshake(`/api?token=${door.token}`, {})).toBe(403)
    expect(await handshake(`/api?token=${door.token}`, { Origin: origin() })).toBe(101)
  })

  it('round-trips a call to the SQLite-backed core and pushes events', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}/api?token=${door.token}`, { headers: { Origin: origin() } })
    const messages: ServerMessage[] = []
    ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as ServerMessage))
    await new Promise((r) => ws.on('open', r))
    ws.send(JSON.stringify({ id: 7, method: 'labs.create', input: { name: 'over-the-wire' } }))
    ws.send(JSON.stringify({ id: 8, method: 'labs.create', input: { name: '' } }))
    await expect.poll(() => messages.filter((m) => m.kind === 'response').length).toBe(2)
    expect(messages).toContainEqual(expect.objectContaining({ kind: 'response', id: 7, ok: true, result: expect.objectContaining({ name: 'over-the-wire' }) }))
    expect(messages).toContainEqual(expect.objectContaining({ kind: 'response', id: 8, ok: false, error: expect.objectContaining({ code: 'invalid_input' }) }))
    expect(messages).toContainEqual({ kind: 'event', event: { type: 'labs.changed' } })
    ws.close()
  })

  it('sends terminal output as binary frames, byte for byte, and everything else as JSON text', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}/api?token=${door.token}`, { headers: { Origin: origin() } })
    const frames: { binary: boolean; data: Buffer }[] = []
    ws.on('message', (d, isBinary) => frames.push({ binary: isBinary, data: d as Buffer }))
    await new Promise((r) => ws.on('open', r))
    // Every byte value, a UTF-8 character split across two chunks, and an empty chunk.
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const chunks = [all, Uint8Array.of(0xe6, 0xbc), Uint8Array.of(0xa2), new Uint8Array(0)]
    for (const data of chunks) services().bus.emit({ type: 'terminal.data', id: 'term-1', data })
    services().bus.emit({ type: 'terminal.exit', id: 'term-1', reason: 'done' })
    await expect.poll(() => frames.length).toBe(5)
    const binary = frames.filter((f) => f.binary)
    expect(binary).toHaveLength(4)
    expect(binary.map((f) => decodeTerminalFrame(new Uint8Array(f.data)))).toEqual(chunks.map((data) => ({ type: 'terminal.data', id: 'term-1', data })))
    // Raw bytes: a frame is the payload plus a 2-byte header and the id, not base64's +33 %.
    expect(binary[0].data.length).toBe(256 + 2 + 'term-1'.length)
    expect(frames[4].binary).toBe(false)
    expect(JSON.parse(frames[4].data.toString())).toEqual({ kind: 'event', event: { type: 'terminal.exit', id: 'term-1', reason: 'done' } })
    ws.close()
  })

  it('sends terminal output as base64 in JSON on a socket that asks for it (terminalData=base64)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}/api?token=${door.token}&terminalData=base64`, { headers: { Origin: origin() } })
    const frames: { binary: boolean; data: Buffer }[] = []
    ws.on('message', (d, isBinary) => frames.push({ binary: isBinary, data: d as Buffer }))
    await new Promise((r) => ws.on('open', r))
    services().bus.emit({ type: 'terminal.data', id: 'term-2', data: Uint8Array.of(0, 255, 10) })
    await expect.poll(() => frames.length).toBe(1)
    expect(frames[0].binary).toBe(false)
    expect(JSON.parse(frames[0].data.toString())).toEqual({ kind: 'event', event: { type: 'terminal.data', id: 'term-2', data: 'AP8K' } })
    ws.close()
  })
})

describe('terminal frames', () => {
  it('round-trip any id and payload, and refuse what is not one', () => {
    const data = Uint8Array.of(1, 2, 3)
    expect(decodeTerminalFrame(encodeTerminalFrame('é-id', data))).toEqual({ type: 'terminal.data', id: 'é-id', data })
    expect(decodeTerminalFrame(Uint8Array.of(0x7b, 0x22))).toBeUndefined()
    expect(decodeTerminalFrame(Uint8Array.of(0x01, 9, 0x61))).toBeUndefined()
    expect(() => encodeTerminalFrame('x'.repeat(256), data)).toThrow()
  })
})
