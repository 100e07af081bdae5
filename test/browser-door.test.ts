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
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
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
})

/** A socket as the page opens it: calls by id, every JSON message and binary frame kept. */
async function client() {
  const ws = new WebSocket(`ws://127.0.0.1:${door.port}/api?token=${door.token}`, { headers: { Origin: origin() } })
  const json: ServerMessage[] = []
  const binary: Buffer[] = []
  const waiting = new Map<number, (m: ServerMessage) => void>()
  ws.on('message', (d, isBinary) => {
    if (isBinary) return void binary.push(d as Buffer)
    const m = JSON.parse(d.toString()) as ServerMessage
    json.push(m)
    if (m.kind === 'response') waiting.get(m.id)?.(m)
  })
  await new Promise((r) => ws.on('open', r))
  let next = 1
  const call = async <T,>(method: string, input: unknown): Promise<T> => {
    const id = next++
    const reply = await new Promise<ServerMessage>((resolve) => {
      waiting.set(id, resolve)
      ws.send(JSON.stringify({ id, method, input }))
    })
    if (reply.kind === 'response' && !reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code })
    return (reply as { result: T }).result
  }
  /** Terminal output this socket received for one terminal, as text. */
  const output = (termId: string) =>
    binary
      .map((f) => decodeTerminalFrame(new Uint8Array(f)))
      .filter((e) => e?.id === termId)
      .map((e) => Buffer.from(e!.data).toString('latin1'))
      .join('')
  return { ws, json, binary, call, output }
}

const skip = sshdUnavailable()
if (skip) console.warn(`SKIP browser door terminals: ${skip}`)

describe.skipIf(skip !== null)('terminals through the browser door (real sshd)', () => {
  let sshd: Sshd
  let nodeId: number

  beforeAll(async () => {
    sshd = await startSshd()
    const admin = await client()
    const lab = await admin.call<{ id: number }>('labs.create', { name: 'terminals' })
    const node = await admin.call<{ id: number }>('nodes.add', { labId: lab.id, name: 'sshd', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
    nodeId = node.id
    // MigLab trusts a key it has been shown: connect once (refused as unknown), then trust it.
    await admin.call('nodes.connect', { nodeId }).catch(() => undefined)
    await admin.call('hostKeys.trust', { host: sshd.host, port: sshd.port, fingerprint: sshd.fingerprint() })
    admin.ws.close()
  })
  afterAll(async () => {
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
  })

  it("sends each socket its own terminals' output only, and refuses another socket's terminal as closed", async () => {
    const a = await client()
    const b = await client()
    const ta = await a.call<{ id: string }>('terminals.open', { nodeId, cols: 80, rows: 24 })
    const tb = await b.call<{ id: string }>('terminals.open', { nodeId, cols: 80, rows: 24 })
    await a.call('terminals.input', { id: ta.id, data: 'echo only-for-$((2*21))-a\n' })
    await b.call('terminals.input', { id: tb.id, data: 'echo only-for-$((2*21))-b\n' })
    await expect.poll(() => a.output(ta.id), { timeout: 30_000 }).toContain('only-for-42-a')
    await expect.poll(() => b.output(tb.id), { timeout: 30_000 }).toContain('only-for-42-b')
    // Not one frame of the other's terminal, nor its exit.
    expect(a.binary.map((f) => decodeTerminalFrame(new Uint8Array(f))?.id).filter((id) => id !== ta.id)).toEqual([])
    expect(b.binary.map((f) => decodeTerminalFrame(new Uint8Array(f))?.id).filter((id) => id !== tb.id)).toEqual([])
    // b cannot type into, resize, ack or close a's terminal: to b it does not exist.
    await expect(b.call('terminals.input', { id: ta.id, data: 'echo typed-by-b\n' })).rejects.toMatchObject({ code: 'terminal_closed' })
    await expect(b.call('terminals.resize', { id: ta.id, cols: 100, rows: 30 })).rejects.toMatchObject({ code: 'terminal_closed' })
    await b.call('terminals.close', { id: ta.id })
    await a.call('terminals.input', { id: ta.id, data: 'echo still-$((1+1))-open\n' })
    await expect.poll(() => a.output(ta.id), { timeout: 30_000 }).toContain('still-2-open')
    expect(a.output(ta.id)).not.toContain('typed-by-b')
    await a.call('terminals.input', { id: ta.id, data: 'exit\n' })
    await expect.poll(() => a.json.some((m) => m.kind === 'event' && m.event.type === 'terminal.exit' && m.event.id === ta.id), { timeout: 30_000 }).toBe(true)
    expect(b.json.filter((m) => m.kind === 'event' && m.event.type.startsWith('terminal.'))).toEqual([])
    a.ws.close()
    b.ws.close()
  })

  it('closes the shells of a socket that closes (a closed tab), and only those', async () => {
    const a = await client()
    const b = await client()
    const ta = await a.call<{ id: string }>('terminals.open', { nodeId, cols: 80, rows: 24 })
    const tb = await b.call<{ id: string }>('terminals.open', { nodeId, cols: 80, rows: 24 })
    const pidOf = async (c: typeof a, id: string) => {
      await c.call('terminals.input', { id, data: 'echo shell-pid=$$.\n' })
      await expect.poll(() => /shell-pid=(\d+)\./.exec(c.output(id))?.[1], { timeout: 30_000 }).toBeTruthy()
      return Number(/shell-pid=(\d+)\./.exec(c.output(id))![1])
    }
    // sshd runs on this machine, so the remote shells are processes here.
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    const pa = await pidOf(a, ta.id)
    const pb = await pidOf(b, tb.id)
    expect([alive(pa), alive(pb)]).toEqual([true, true])
    a.ws.close()
    await expect.poll(() => alive(pa), { timeout: 30_000 }).toBe(false)
    expect(services().terminals.sessionOf(ta.id)).toBeUndefined()
    expect(alive(pb)).toBe(true)
    await b.call('terminals.input', { id: tb.id, data: 'echo b-still-$((3+4))\n' })
    await expect.poll(() => b.output(tb.id), { timeout: 30_000 }).toContain('b-still-7')
    b.ws.terminate() // a dropped connection, not a clean close
    await expect.poll(() => alive(pb), { timeout: 30_000 }).toBe(false)
  })

  it('sends terminal output as binary frames, byte for byte, and everything else as JSON text', async () => {
    const c = await client()
    const { id } = await c.call<{ id: string }>('terminals.open', { nodeId, cols: 80, rows: 24 })
    await c.call('terminals.input', { id, data: 'stty -echo\n' })
    await new Promise((r) => setTimeout(r, 300))
    const before = c.binary.length
    const events = c.json.length
    // Every byte value, a UTF-8 character split across two chunks, and an empty chunk, as the core emits them.
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const chunks = [all, Uint8Array.of(0xe6, 0xbc), Uint8Array.of(0xa2), new Uint8Array(0)]
    for (const data of chunks) services().bus.emit({ type: 'terminal.data', id, data })
    // The four frames leave back to back (a late prompt may come before them, never between).
    const at = () => c.binary.findIndex((f, i) => i >= before && f.length === 256 + 2 + id.length)
    await expect.poll(() => at() >= 0 && c.binary.length >= at() + 4).toBe(true)
    const frames = c.binary.slice(at(), at() + 4)
    expect(frames.map((f) => decodeTerminalFrame(new Uint8Array(f)))).toEqual(chunks.map((data) => ({ type: 'terminal.data', id, data })))
    // Raw bytes: a frame is the payload plus a 2-byte header and the id, not base64's +33 %.
    expect(frames[0].length).toBe(256 + 2 + id.length)
    await c.call('terminals.input', { id, data: 'exit\n' })
    await expect.poll(() => c.json.slice(events).some((m) => m.kind === 'event' && m.event.type === 'terminal.exit' && m.event.id === id), { timeout: 30_000 }).toBe(true)
    c.ws.close()
  })

  it('sends terminal output as base64 in JSON on a socket that asks for it (terminalData=base64)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${door.port}/api?token=${door.token}&terminalData=base64`, { headers: { Origin: origin() } })
    const frames: { binary: boolean; data: Buffer }[] = []
    ws.on('message', (d, isBinary) => frames.push({ binary: isBinary, data: d as Buffer }))
    await new Promise((r) => ws.on('open', r))
    ws.send(JSON.stringify({ id: 1, method: 'terminals.open', input: { nodeId, cols: 80, rows: 24 } }))
    await expect.poll(() => frames.length, { timeout: 30_000 }).toBeGreaterThan(0)
    const { id } = (JSON.parse(frames[0].data.toString()) as { result: { id: string } }).result
    ws.send(JSON.stringify({ id: 2, method: 'terminals.input', input: { id, data: 'stty -echo\n' } }))
    await new Promise((r) => setTimeout(r, 300))
    frames.length = 0
    services().bus.emit({ type: 'terminal.data', id, data: Uint8Array.of(0, 255, 10) })
    await expect.poll(() => frames.some((f) => f.data.includes('AP8K'))).toBe(true)
    const frame = frames.find((f) => f.data.includes('AP8K'))!
    expect(frame.binary).toBe(false)
    expect(JSON.parse(frame.data.toString())).toEqual({ kind: 'event', event: { type: 'terminal.data', id, data: 'AP8K' } })
    // Every terminal frame on this socket is JSON text.
    expect(frames.every((f) => !f.binary)).toBe(true)
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
