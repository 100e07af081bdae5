import { spawnSync } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inputs } from '../src/shared/api'
import { MigLabError } from '../src/shared/errors'
import { readUserFile } from '../src/main/ssh/user-file'
import { tempCore, tempDir } from './helpers'

/** Runs the read in a child under a timeout: a blocking read fails the test instead of hanging it. */
function readInChild(mode: 'config' | 'key', path: string): { ok: boolean; code?: string; message?: string; because?: string; hint?: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/read-user-path.ts'), mode, path], { encoding: 'utf8', timeout: 20_000 })
  if (r.error || r.signal) throw new Error(`reading ${path} as ${mode} did not finish: ${r.error?.message ?? r.signal} (it blocked)`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

describe('key files and ssh config paths: regular files up to 64 KiB, read without blocking or following links', () => {
  let dir: string
  let fifo: string
  let config: string
  let link: string
  let big: string
  beforeAll(() => {
    dir = tempDir()
    fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    config = join(dir, 'config')
    writeFileSync(config, 'Host a\n  HostName 10.0.0.1\n')
    link = join(dir, 'link')
    symlinkSync(config, link)
    big = join(dir, 'big')
    writeFileSync(big, Buffer.alloc(100 * 1024, 'A'))
    mkdirSync(join(dir, 'sub'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each(['config', 'key'] as const)('%s: a FIFO is refused at once, without blocking (real mkfifo, in a child with a timeout)', (mode) => {
    const r = readInChild(mode, fifo)
    expect(r).toMatchObject({ ok: false, because: 'not_regular', code: mode === 'key' ? 'key_unreadable' : 'ssh_config_unreadable' })
    expect(r.message).toMatch(/named pipe \(FIFO\), not a regular file/)
  })

  it.each(['config', 'key'] as const)('%s: /dev/zero is refused without reading it', (mode) => {
    expect(readInChild(mode, '/dev/zero')).toMatchObject({ ok: false, because: 'not_regular', message: expect.stringMatching(/a device/) })
  })

  it('refuses a symlink, a 100 KiB file, a directory and a missing file, each with code, sentence and what to do', () => {
    const cases: [string, string, RegExp][] = [
      [link, 'symlink', /symbolic link/],
      [big, 'too_big', /102400 bytes, more than the 65536/],
      [join(dir, 'sub'), 'not_regular', /a directory/],
      [join(dir, 'nope'), 'missing', /no such file/],
    ]
    for (const [path, because, sentence] of cases) {
      const err = (() => {
        try {
          readUserFile(path, { code: 'key_unreadable', what: 'a private key' })
        } catch (e) {
          return e as MigLabError
        }
      })()
      expect(err, path).toBeInstanceOf(MigLabError)
      expect(err!.code).toBe('key_unreadable')
      expect(err!.message).toMatch(sentence)
      expect(err!.detail).toMatchObject({ path, because, hint: expect.any(String) })
    }
    // The file the link points at is fine; exactly 64 KiB is fine too.
    expect(readUserFile(config, { code: 'x', what: 'y' }).toString()).toMatch(/HostName/)
    writeFileSync(big, Buffer.alloc(64 * 1024, 'A'))
    expect(readUserFile(big, { code: 'x', what: 'y' }).length).toBe(64 * 1024)
    writeFileSync(big, Buffer.alloc(100 * 1024, 'A'))
  })

  it.skipIf(!existsSync('/etc/ssh/ssh_host_ed25519_key'))("refuses this machine's private host keys, by path and by inode", () => {
    for (const path of ['/etc/ssh/ssh_host_ed25519_key', '/etc//ssh/./ssh_host_ed25519_key']) {
      expect(() => readUserFile(path, { code: 'key_unreadable', what: 'a private key' })).toThrow(/private SSH host keys/)
    }
    const hard = join('/etc/ssh', `.miglab-test-${process.pid}`)
    try {
      linkSync('/etc/ssh/ssh_host_ed25519_key', hard)
      expect(() => readUserFile(hard, { code: 'key_unreadable', what: 'a private key' })).toThrow(expect.objectContaining({ detail: expect.objectContaining({ because: 'host_key' }) }))
    } finally {
      rmSync(hard, { force: true })
    }
    expect(readInChild('key', '/etc/ssh/ssh_host_ed25519_key')).toMatchObject({ ok: false, because: 'host_key', hint: expect.stringMatching(/client key of your own/) })
  })

  it('through the contract: nodes.add and nodes.importSshConfig answer the same refusals', async () => {
    const { core, dispose } = tempCore()
    try {
      const call = (m: 'nodes.add' | 'nodes.importSshConfig', input: unknown) => (core.handlers[m] as (i: unknown) => Promise<unknown>)(inputs[m].parse(input))
      const labId = (await core.handlers['labs.create']({ name: 'files', description: '', hypervisor: 'qemu' })).id
      for (const [keyPath, because] of [[fifo, 'not_regular'], ['/dev/zero', 'not_regular'], [link, 'symlink'], [big, 'too_big']]) {
        await expect(call('nodes.add', { labId, name: 'n', host: 'h', user: 'root', auth: { kind: 'key', keyPath } })).rejects.toMatchObject({ code: 'key_unreadable', detail: { because } })
      }
      if (existsSync('/etc/ssh/ssh_host_rsa_key')) {
        await expect(call('nodes.add', { labId, name: 'n', host: 'h', user: 'root', auth: { kind: 'key', keyPath: '/etc/ssh/ssh_host_rsa_key' } })).rejects.toMatchObject({ detail: { because: 'host_key' } })
      }
      // A key that does not exist yet may be entered; the login checks again.
      await expect(call('nodes.add', { labId, name: 'later', host: 'h', user: 'root', auth: { kind: 'key', keyPath: join(dir, 'not-yet') } })).resolves.toBeTruthy()
      for (const [path, because] of [[fifo, 'not_regular'], ['/dev/zero', 'not_regular'], [link, 'symlink'], [big, 'too_big']]) {
        await expect(call('nodes.importSshConfig', { path })).rejects.toMatchObject({ code: 'ssh_config_unreadable', detail: { because } })
      }
    } finally {
      await dispose()
    }
  })
})
