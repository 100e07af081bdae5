import { spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DoctorCheck } from '../src/shared/domain'
import { createCore } from '../src/main/core'
import { tempDir } from './helpers'

const bin = join(__dirname, '..', 'bin', 'miglab.mjs')
const dataDir = tempDir()
const env = { ...process.env, MIGLAB_DATA_DIR: dataDir }
const miglab = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 })
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('CLI door', () => {
  it('prints help listing its commands', () => {
    const out = miglab('--help')
    expect(out.status).toBe(0)
    for (const command of ['serve', 'doctor', 'db']) expect(out.stdout).toContain(command)
  })

  it('db path honours MIGLAB_DATA_DIR', () => {
    expect(miglab('db', 'path').stdout.trim()).toBe(join(dataDir, 'miglab.sqlite'))
  })

  it('doctor --json reports each requirement with a fix for what is missing', () => {
    const checks = JSON.parse(miglab('doctor', '--json').stdout) as DoctorCheck[]
    const ids = checks.map((c) => c.id)
    expect(ids).toEqual(expect.arrayContaining(['electron', 'chromium', 'root', 'linux', 'kvm', 'qemu', 'sshd', 'mpirun', 'ganesha']))
    for (const c of checks) if (c.status !== 'ok') expect(c.hint, c.id).toBeTruthy()
    const sshd = checks.find((c) => c.id === 'sshd')!
    expect(sshd.status === 'ok').toBe(existsSync('/usr/sbin/sshd'))
    const root = checks.find((c) => c.id === 'root')!
    expect(root.status === 'ok').toBe(process.getuid?.() === 0)
  })

  it('refuses a bad port with a clear message and a non-zero exit', () => {
    const out = miglab('serve', '--port', 'eighty')
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('--port must be 0..65535')
  })

  it('an unknown command exits non-zero with help', () => {
    const out = miglab('frobnicate')
    expect(out.status).not.toBe(0)
    expect(out.stderr).toMatch(/unknown command/i)
  })

  it('vm list names the VMs of a lab (none here), and run says how to start one it cannot find', async () => {
    const core = createCore({ dataDir, door: 'browser' })
    await core.handlers['labs.create']({ name: 'empty', description: '', hypervisor: 'qemu' })
    await core.close()
    const list = miglab('vm', 'list', '--lab', 'empty')
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout.trim()).toBe('No VM runs on the nodes of empty.')
    const out = miglab('run', '--lab', 'empty', '--vm', 'ghost')
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('miglab: --vm: VM "ghost" is not running on any node of lab "empty".')
    expect(out.stderr).toMatch(/→ Name the node it starts from with --from .*miglab vm list --lab "empty"/)
  })

  it('lab list names every lab with its id and hypervisor; a lab that is not there is refused with the ones that are', async () => {
    const core = createCore({ dataDir, door: 'browser' })
    await core.handlers['labs.create']({ name: 'rack two', description: '', hypervisor: 'xen' })
    await core.close()
    const list = miglab('lab', 'list')
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/^\s*\d+  rack two  real  xen  nodes: none$/m)
    const runs = miglab('runs', 'list', '--lab', 'rack three')
    expect(runs.status).toBe(1)
    expect(runs.stderr).toContain('miglab: --lab: no lab called "rack three".')
    expect(runs.stderr).toContain('"rack two"')
  })

  it('setup xcpng reads the pool password from stdin only (never echoed), with the SR flags, and says what the lab lacks', async () => {
    const core = createCore({ dataDir, door: 'browser' })
    await core.handlers['labs.create']({ name: 'pool', description: '', hypervisor: 'xen' })
    await core.close()
    const out = spawnSync(process.execPath, [bin, 'setup', 'xcpng', '--lab', 'pool', '--dry-run', '--pool-password-stdin', '--sr-server', '10.0.0.9', '--sr-path', '/srv/x'], { env, encoding: 'utf8', input: 'pw-XYZ\n', timeout: 60_000 })
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('miglab: Lab "pool" has no nodes yet.')
    expect(out.stdout + out.stderr).not.toContain('pw-XYZ')
  })

  it('run --preset: an unknown preset is refused with the known ones; flags given beside a preset win', async () => {
    const core = createCore({ dataDir, door: 'browser' })
    await core.handlers['labs.create']({ name: 'presets', description: '', hypervisor: 'qemu' })
    await core.close()
    const bad = miglab('run', '--lab', 'presets', '--vm', 'guest', '--from', 'a', '--to', 'b', '--preset', 'nope')
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('miglab: --preset "nope": use thesis.')
    const mine = miglab('run', '--lab', 'presets', '--vm', 'guest', '--from', 'a', '--to', 'b', '--preset', 'thesis', '--strategy', 'bogus')
    expect(mine.status).toBe(1)
    // With the preset's strategies the run would get as far as the nodes; the given one is refused first.
    expect(mine.stderr).toContain('miglab: --strategy: one of')
    // A parameter the contract refuses is named by its flag, with the contract's reason.
    const net = miglab('run', '--lab', 'presets', '--vm', 'guest', '--from', 'a', '--to', 'b', '--migration-network', 'management')
    expect(net.status).toBe(1)
    expect(net.stderr).toContain('--migration-network')
    expect(net.stderr).toContain('a network uuid (xe network-list)')
  })
})
