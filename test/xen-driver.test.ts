import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { migrationParams } from '../src/shared/contract/migration'
import type { MigrateHooks, MigrationEvent, MigrationSample } from '../src/main/hypervisors/driver'
import type { LinkExecResult, NodeLink } from '../src/main/hypervisors/node-link'
import { XenDriver } from '../src/main/hypervisors/xen/driver'
import { xapiError, xeError } from '../src/main/hypervisors/xen/xe-errors'
import { parseMap, parseMinimal, parseProgress, parseRecords, parseSet, parseXeTime } from '../src/main/hypervisors/xen/xe-parse'
import { RunWriter } from '../src/main/store/run-writer'
import { HYPERVISOR_NOTES } from '../src/shared/domain'
import { roleSeries, seriesDef } from '../src/shared/metrics'
import { tempCore } from './helpers'
import type { RemoteCommand } from '../src/main/remote/command'
import * as xe from '../src/main/remote/xe'

/*
 * MOCK (permitted: xapi cannot run here, and no XenServer pool is reachable): a NodeLink stand-in
 * answers xe commands with the output formats of xapi's CLI (xen-api ocaml/xapi-cli-server):
 * `--minimal` comma lists; `name ( RO): value` records separated by blank lines; floats as `%.3f`
 * (records.ml); a failed call as its datamodel_errors.ml description, then `param: value` lines
 * (cli_util.ml server_error); task status pending/success/failure/cancelling/cancelled.
 */

// The record layout of `xe vm-list` as the CLI reference prints it.
const VM_LIST_SAMPLE = `uuid ( RO)           : 5d7a3f6e-0d7c-4c39-8a5e-1f2b3c4d5e6f
     name-label ( RW): web-01
    power-state ( RO): running


uuid ( RO)           : 9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9
     name-label ( RW): Control domain on host: xs1
    power-state ( RO): running
`

const params = migrationParams.parse({})

/** The argv a shell makes of a built command: what xe (or sh, cat, rm) would receive. */
const argvOf = (text: string): string[] => spawnSync('sh', ['-c', `printf '%s\\0' ${text}`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1)

const record = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${k.padStart(16)} ( RO): ${v}`)
    .join('\n')
const records = (rs: Record<string, string>[]): string => rs.map(record).join('\n\n\n') + (rs.length ? '\n' : '')

interface TaskStep {
  status: string
  /** What `xe task-param-get … param-name=progress` prints (raw, so malformed output can be played). */
  progress: string
  error_info?: string
  /** The synchronous call returns right after this record is read: the task is destroyed, the VM moved. */
  vanish?: boolean
}

/** xe's output for a failed call: the error's description, then one `param: value` line each. */
const xeFailure = (description: string, params: Record<string, string> = {}): string => [description, ...Object.entries(params).map(([k, v]) => `${k}: ${v}`)].join('\n') + '\n'
const UUID_INVALID = 'The uuid you supplied was invalid.'
const NET_STORAGE = { uuid: '3b9f0e52-6a1d-4c8e-9d2f-0a1b2c3d4e5f', 'name-label': 'Storage network', bridge: 'xenbr1' }
const NET_MGMT = { uuid: '7c2e4a10-1b3d-4e5f-8a9b-c0d1e2f3a4b5', 'name-label': 'Pool-wide network associated with eth0', bridge: 'xenbr0' }

/** A two-host pool behind one xe: answers from state, and moves the VM when the task succeeds. */
class FakePool {
  readonly calls: string[] = []
  hosts = [
    { uuid: 'host-a-uuid', 'name-label': 'xs-a', hostname: 'xs-a', address: '10.0.0.1' },
    { uuid: 'host-b-uuid', 'name-label': 'xs-b', hostname: 'xs-b', address: '10.0.0.2' },
  ]
  vm = { uuid: 'vm-uuid-1', 'name-label': 'web-01', 'power-state': 'running', 'resident-on': 'host-a-uuid', 'memory-static-max': String(512 * 2 ** 20) }
  networks = [NET_MGMT, NET_STORAGE]
  xapiBuild = '24.19.2'
  master = 'host-a-uuid'
  taskUuid = 'task-uuid-1'
  taskStarted = false
  taskGone = false
  cancelled = false
  log = ''
  /** The migration's argv as the host received it, and which node ran it. */
  started?: { argv: string[]; on: string }
  /** A synchronous call that fails before any task shows: what it prints. */
  failAtStart?: string
  constructor(private readonly steps: TaskStep[]) {}
  private step = 0
  private current?: TaskStep

  exec(text: string, on: string): LinkExecResult {
    this.calls.push(text)
    const argv = argvOf(text)
    const ok = (stdout: string): LinkExecResult => ({ code: 0, stdout, stderr: '' })
    const fail = (stderr: string): LinkExecResult => ({ code: 1, stdout: '', stderr })
    const opt = (name: string) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
    if (argv[0] === 'sh' && argv[4]?.startsWith('/tmp/miglab-xe-migrate-')) {
      this.started = { argv: argv.slice(5), on }
      if (this.failAtStart) {
        this.taskGone = true
        this.log = `${this.failAtStart}xe-exit=1\n`
      } else this.taskStarted = true
      return ok('4242\n')
    }
    if (argv[0] === 'cat') return ok(this.log)
    if (argv[0] === 'rm') return ok('')
    if (argv[0] !== 'xe') return { code: 127, stdout: '', stderr: `${argv[0]}: not found` }
    switch (argv[1]) {
      case 'host-list':
        return ok(records(this.hosts))
      case 'pool-list':
        return ok(`${this.master}\n`)
      case 'network-list': {
        const uuid = opt('uuid')
        return ok(records(this.networks.filter((n) => uuid === undefined || n.uuid === uuid)))
      }
      case 'host-param-get':
        return ok(
          opt('param-name') === 'software-version'
            ? `product_version: 8.2.1; product_brand: XCP-ng; xapi: 1.20; xapi_build: ${this.xapiBuild}; xen: 4.13.5\n`
            : opt('param-name') === 'cpu_info'
              ? 'cpu_count: 8; vendor: GenuineIntel; modelname: Intel(R) Xeon(R) E-2236\n'
              : 'xs-a\n',
        )
      case 'vm-list': {
        if (opt('name-label') !== undefined) return ok(opt('name-label') === this.vm['name-label'] ? `${this.vm.uuid}\n` : '\n')
        if (opt('resident-on') !== undefined) return ok(opt('resident-on') === this.vm['resident-on'] ? records([this.vm]) : '')
        return ok(records([{ 'resident-on': this.vm['resident-on'], 'power-state': this.vm['power-state'] }]))
      }
      case 'task-list': {
        if (argv.includes('--minimal')) return ok('old-task-uuid\n')
        if (opt('status') === 'pending') return ok(this.taskStarted && !this.taskGone ? records([{ uuid: 'old-task-uuid', 'name-label': 'VM.start' }, { uuid: this.taskUuid, 'name-label': 'Async.VM.pool_migrate', created: '20240521T10:00:00Z' }]) : '')
        if (this.taskGone) return ok('')
        const s = this.cancelled ? { status: 'cancelled', progress: '1.000' } : this.steps[Math.min(this.step++, this.steps.length - 1)]
        this.current = s
        if (s.vanish) {
          this.taskGone = true
          this.vm['resident-on'] = 'host-b-uuid'
          this.log = 'xe-exit=0\n'
        }
        const done = s.status !== 'pending'
        if (done) this.finish(s.status)
        return ok(records([{ uuid: this.taskUuid, status: s.status, created: '20240521T10:00:00Z', finished: done ? '20240521T10:00:04.200Z' : '19700101T00:00:00Z', error_info: s.error_info ?? '', result: '' }]))
      }
      case 'task-param-get':
        if (opt('uuid') !== this.taskUuid || this.taskGone || !this.current) return fail(xeFailure(UUID_INVALID, { type: 'task', uuid: opt('uuid') ?? '' }))
        return ok(`${this.current.progress}\n`)
      case 'task-cancel':
        this.cancelled = true
        return ok('')
      default:
        return { code: 1, stdout: '', stderr: `Unknown command ${argv[1]}` }
    }
  }

  private finish(status: string): void {
    if (status === 'success') this.vm['resident-on'] = 'host-b-uuid'
    this.log = status === 'success' ? 'xe-exit=0\n' : `The server failed to handle your request.\nxe-exit=1\n`
  }
}

class XeLink implements NodeLink {
  readonly id: string
  constructor(
    readonly name: string,
    readonly address: string,
    private readonly pool: FakePool,
  ) {
    this.id = `xe:${name}`
  }
  async exec(command: RemoteCommand): Promise<LinkExecResult> {
    return this.pool.exec(command.text, this.name)
  }
  openUnixSocket(): Promise<Duplex> {
    throw new Error('xe needs no unix sockets')
  }
}

const setup = (steps: TaskStep[]) => {
  const pool = new FakePool(steps)
  return { pool, a: new XeLink('a', '10.0.0.1', pool), b: new XeLink('b', '10.0.0.2', pool), d: new XenDriver() }
}

const hooksFor = (signal?: AbortSignal) => {
  const samples: MigrationSample[] = []
  const events: MigrationEvent[] = []
  const t0 = Date.now()
  const hooks: MigrateHooks = { signal, clock: () => Date.now() - t0, onSample: (s) => void samples.push(s), onEvent: (e) => void events.push(e) }
  return { samples, events, hooks }
}

describe('xe output parsers (documented formats)', () => {
  it('reads --minimal comma lists', () => {
    expect(parseMinimal('a1,b2,c3\n')).toEqual(['a1', 'b2', 'c3'])
    expect(parseMinimal('\n')).toEqual([])
  })

  it('reads blank-line separated records with ( RO)/( RW)/(MRW)/(SRO) fields', () => {
    expect(parseRecords(VM_LIST_SAMPLE)).toEqual([
      { uuid: '5d7a3f6e-0d7c-4c39-8a5e-1f2b3c4d5e6f', 'name-label': 'web-01', 'power-state': 'running' },
      { uuid: '9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9', 'name-label': 'Control domain on host: xs1', 'power-state': 'running' },
    ])
    // vm-param-list lines from the CLI reference's "Parameter types" section.
    const [r] = parseRecords(`user-version ( RW): 1
is-control-domain ( RO): false
platform (MRW): acpi: true; apic: true; pae: true; nx: false
allowed-operations (SRO): pause; clean_shutdown; clean_reboot; hard_shutdown; hard_reboot; suspend
name-description ( RW): `)
    expect(r['user-version']).toBe('1')
    expect(r['is-control-domain']).toBe('false')
    expect(r['name-description']).toBe('')
    expect(parseMap(r.platform)).toEqual({ acpi: 'true', apic: 'true', pae: 'true', nx: 'false' })
    expect(parseSet(r['allowed-operations'])).toEqual(['pause', 'clean_shutdown', 'clean_reboot', 'hard_shutdown', 'hard_reboot', 'suspend'])
  })

  it('reads xapi datetimes, NaN for the unset epoch', () => {
    expect(parseXeTime('20240521T10:00:04.200Z') - parseXeTime('20240521T10:00:00Z')).toBe(4200)
    expect(parseXeTime('19700101T00:00:00Z')).toBeNaN()
  })
})

describe('Xen driver through a stand-in NodeLink', () => {
  it('the UI names this driver untested against a real pool', () => {
    expect(HYPERVISOR_NOTES.xen).toContain('not run against a real pool')
  })

  it('offers pre-copy only, with a reason for every other strategy', async () => {
    const { a, b, d } = setup([])
    const caps = await d.capabilities([a, b], params)
    expect(caps.filter((c) => c.supported).map((c) => c.id)).toEqual(['precopy'])
    expect(caps.find((c) => c.id === 'postcopy')?.reason).toBe("XenServer's live migration is pre-copy only.")
    expect(caps.find((c) => c.id === 'dsm')?.reason).toMatch(/DSM memory layer/)
    for (const id of ['xbzrle', 'multifd', 'auto-converge']) expect(caps.find((c) => c.id === id)?.reason).toMatch(/QEMU (migration )?feature that xe does not expose/)
  })

  it('lists VMs per host and records the environment', async () => {
    const { a, b, d } = setup([])
    expect(await d.listVms([a, b])).toEqual([{ spec: { name: 'web-01', memoryMiB: 512 }, node: 'a', state: 'running', pid: 0 }])
    expect(await d.environment(a)).toMatchObject({ product: 'XCP-ng 8.2.1', xapi: '1.20', hostname: 'xs-a', cpu: 'Intel(R) Xeon(R) E-2236', cpus: 8 })
  })

  it('migrates: task pending → 0.3 → 0.8 → success, VM resident on the destination', async () => {
    const { pool, a, b, d } = setup([
      { status: 'pending', progress: '0.000' },
      { status: 'pending', progress: '0.300' },
      { status: 'pending', progress: '0.800' },
      { status: 'success', progress: '1.000' },
    ])
    const { samples, events, hooks } = hooksFor()
    const out = await d.migrate('web-01', a, b, 'precopy', params, hooks)
    expect(samples.map((s) => s.values['xen.progress'])).toEqual([0, 30, 80, 100])
    expect(pool.calls).toContain(`xe task-param-get 'uuid=task-uuid-1' 'param-name=progress'`)
    expect(events.filter((e) => e.kind === 'status').map((e) => e.data.status)).toEqual(['pending', 'success'])
    expect(events.find((e) => e.kind === 'task')?.data.task).toBe('task-uuid-1')
    expect(out.figures).toEqual({ total_ms: 4200 })
    // What xe cannot report is absent with the reason, never a made-up 0.
    expect(Object.keys(out.unmeasured).sort()).toEqual(['passes', 'qemu_downtime_ms', 'stop_resume_ms', 'transferred_bytes'])
    expect(out.raw).toMatchObject({ totalFrom: 'xapi task created → finished' })
    expect(pool.vm['resident-on']).toBe('host-b-uuid')
    expect(pool.started).toEqual({ argv: ['xe', 'vm-migrate', 'uuid=vm-uuid-1', 'host-uuid=host-b-uuid', 'live=true'], on: 'a' })
    // No network chosen: nothing about networks is asked.
    expect(pool.calls.some((c) => c.includes('network-list'))).toBe(false)
  })

  it('cancel: task-cancel is issued and the VM is verified on the source', async () => {
    const { pool, a, b, d } = setup([{ status: 'pending', progress: '0.300' }])
    const ac = new AbortController()
    const { hooks } = hooksFor(ac.signal)
    hooks.onSample = () => ac.abort()
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'cancelled' })
    expect(pool.calls).toContain(`xe task-cancel 'uuid=task-uuid-1'`)
    const cancelAt = pool.calls.indexOf(`xe task-cancel 'uuid=task-uuid-1'`)
    // After the cancel, the VM's placement is read again: still resident on the source host.
    expect(pool.calls.slice(cancelAt).some((c) => c.startsWith(`xe vm-list 'uuid=vm-uuid-1'`))).toBe(true)
    expect(pool.vm['resident-on']).toBe('host-a-uuid')
  })

  it('a failed task becomes the MigLab error its error_info names, with the command and the xe output', async () => {
    const { a, b, d } = setup([
      { status: 'pending', progress: '0.300' },
      { status: 'failure', progress: '1.000', error_info: 'VM_MIGRATE_FAILED; OpaqueRef:0c1d; OpaqueRef:a1; OpaqueRef:b2; Xenguest: out of memory' },
    ])
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooksFor().hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'xen_migrate_failed',
      message: 'The migration failed: Xenguest: out of memory',
      detail: {
        hint: expect.stringMatching(/xensource\.log/),
        xeErrorInfo: ['VM_MIGRATE_FAILED', 'OpaqueRef:0c1d', 'OpaqueRef:a1', 'OpaqueRef:b2', 'Xenguest: out of memory'],
        command: `xe vm-migrate 'uuid=vm-uuid-1' 'host-uuid=host-b-uuid' 'live=true'`,
      },
    })
    expect((err as { detail: { stderrTail: string } }).detail.stderrTail).toContain('The server failed to handle your request.')
  })

  it('a task failing with VM_REQUIRES_SR says the destination cannot reach the disks, and what to do', async () => {
    const { pool, a, b, d } = setup([{ status: 'failure', progress: '0.000', error_info: 'VM_REQUIRES_SR; OpaqueRef:vm1; OpaqueRef:sr9' }])
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooksFor().hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'xen_vm_requires_sr', message: expect.stringContaining('SR OpaqueRef:sr9'), detail: { hint: expect.stringMatching(/shared storage/) } })
    expect(pool.vm['resident-on']).toBe('host-a-uuid')
  })

  it('an error without a MigLab mapping keeps xapi\'s words', async () => {
    const { a, b, d } = setup([{ status: 'failure', progress: '0.000', error_info: 'VM_HAS_PCI_ATTACHED; OpaqueRef:vm1' }])
    await expect(d.migrate('web-01', a, b, 'precopy', params, hooksFor().hooks)).rejects.toMatchObject({ code: 'migration_failed', message: 'xe vm-migrate failed: VM_HAS_PCI_ATTACHED, OpaqueRef:vm1.' })
  })

  it('xe failing before its task shows: the description it printed becomes the MigLab error', async () => {
    const { pool, a, b, d } = setup([])
    pool.failAtStart = xeFailure(
      "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
      { vm: 'vm-uuid-1 (web-01)', expected: 'running', actual: 'paused' },
    )
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooksFor().hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'xen_vm_power_state', message: 'The VM is paused, not running, so xapi refused the operation.', detail: { command: `xe vm-migrate 'uuid=vm-uuid-1' 'host-uuid=host-b-uuid' 'live=true'` } })
  })

  it('refuses strategies XenServer cannot run', async () => {
    const { a, b, d } = setup([])
    await expect(d.migrate('web-01', a, b, 'postcopy', params, hooksFor().hooks)).rejects.toMatchObject({ code: 'strategy_unsupported' })
  })
})

describe('task progress (xe task-param-get … param-name=progress)', () => {
  it('reads the 0–1 float xe prints', () => {
    expect(parseProgress('0.000\n')).toBe(0)
    expect(parseProgress('0.300\n')).toBe(0.3)
    expect(parseProgress('1.000\n')).toBe(1)
  })

  it.each(['', '1.500', '-0.100', 'nan', '0,500', '0.3 0.4', 'The uuid you supplied was invalid.'])('refuses %j with the line quoted, never a silent 0', (line) => {
    let err: unknown
    try {
      parseProgress(`${line}\n`)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'xen_progress_malformed', message: expect.stringContaining(JSON.stringify(line)) })
  })

  it('stores the series 0 → 100 %, monotonic, in the run history', async () => {
    const { a, b, d } = setup(['0.000', '0.120', '0.450', '0.450', '0.910'].map((progress) => ({ status: 'pending', progress })).concat({ status: 'success', progress: '1.000' }))
    const t = tempCore()
    try {
      const w = new RunWriter(t.core.services.db)
      const id = w.create({ labId: null, jobId: null, vm: 'web-01', strategy: 'precopy', workload: 'idle', params: {}, environment: {} })
      const { hooks } = hooksFor()
      hooks.onSample = (s) => Object.entries(s.values).forEach(([k, v]) => w.sample(id, s.tMs, k, v))
      await d.migrate('web-01', a, b, 'precopy', params, hooks)
      w.flush()
      const stored = (await t.core.handlers['runs.get']({ id })).samples
      const values = stored['xen.progress'].map(([, v]) => v)
      expect(values).toEqual([0, 12, 45, 45, 91, 100])
      // The live view finds it by its role, not by the driver's key.
      expect(roleSeries(stored, 'progress').map(([, v]) => v)).toEqual(values)
      expect(values.every((v, i) => i === 0 || v >= values[i - 1])).toBe(true)
      expect(seriesDef('xen.progress')?.unit).toBe('%')
    } finally {
      await t.dispose()
    }
  })

  it('a task destroyed between its record and its progress (xe said "The uuid you supplied was invalid.") ends the polling, not the run', async () => {
    const { pool, a, b, d } = setup([
      { status: 'pending', progress: '0.400' },
      { status: 'pending', progress: '0.900', vanish: true },
    ])
    const { samples, events, hooks } = hooksFor()
    const out = await d.migrate('web-01', a, b, 'precopy', params, hooks)
    expect(samples.map((s) => s.values['xen.progress'])).toEqual([40])
    expect(events.some((e) => e.data.phase === 'progress-error')).toBe(false)
    expect(out.raw).toMatchObject({ totalFrom: expect.stringMatching(/^wall clock/) })
    expect(pool.vm['resident-on']).toBe('host-b-uuid')
  })

  it('malformed progress mid-migration: the task is cancelled and the error quotes what xe printed', async () => {
    const { pool, a, b, d } = setup([
      { status: 'pending', progress: '0.300' },
      { status: 'pending', progress: '<not known>' },
    ])
    const { samples, hooks } = hooksFor()
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'xen_progress_malformed', message: expect.stringContaining('"<not known>"') })
    expect(samples.map((s) => s.values['xen.progress'])).toEqual([30])
    expect(pool.calls).toContain(`xe task-cancel 'uuid=task-uuid-1'`)
    expect(pool.vm['resident-on']).toBe('host-a-uuid')
  })
})

describe('migration network', () => {
  const onStorage = { ...params, migrationNetwork: NET_STORAGE.uuid }

  it('the contract takes a network uuid only', () => {
    expect(migrationParams.parse({ migrationNetwork: NET_STORAGE.uuid }).migrationNetwork).toBe(NET_STORAGE.uuid)
    for (const bad of ['xenbr1', 'Storage network', `${NET_STORAGE.uuid}; reboot`]) expect(migrationParams.safeParse({ migrationNetwork: bad }).success).toBe(false)
  })

  it('lists the pool\'s networks from xe network-list', async () => {
    const { a, b, d } = setup([])
    expect(await d.migrationNetworks([a, b])).toEqual([
      { uuid: NET_MGMT.uuid, name: NET_MGMT['name-label'], bridge: 'xenbr0' },
      { uuid: NET_STORAGE.uuid, name: 'Storage network', bridge: 'xenbr1' },
    ])
  })

  it('the chosen network reaches VM.pool_migrate as its network option, on the pool master', async () => {
    const { pool, a, b, d } = setup([{ status: 'success', progress: '1.000' }])
    pool.master = 'host-b-uuid'
    const { events, hooks } = hooksFor()
    await d.migrate('web-01', a, b, 'precopy', onStorage, hooks)
    expect(pool.started?.on).toBe('b')
    const argv = pool.started!.argv
    expect(argv.slice(-3)).toEqual(['vm-uuid-1', 'host-b-uuid', NET_STORAGE.uuid])
    expect(argv[3]).toContain(`x.VM.pool_migrate(x.VM.get_by_uuid(sys.argv[1]), x.host.get_by_uuid(sys.argv[2]), {'live': 'true', 'network': x.network.get_by_uuid(sys.argv[3])})`)
    expect(events.find((e) => e.data.phase === 'migrate')?.data.network).toBe(NET_STORAGE.uuid)
    expect(pool.vm['resident-on']).toBe('host-b-uuid')
  })

  it('the command really calls VM.pool_migrate with refs of the uuids and the network option (MOCK: a stand-in XenAPI module)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miglab-xenapi-'))
    try {
      // Only the calls the command makes, recorded; refs are `OpaqueRef:<class>:<uuid>`.
      writeFileSync(
        join(dir, 'XenAPI.py'),
        `import json
class _N:
    def __init__(self, path): self.path = path
    def __getattr__(self, name): return _N(self.path + [name])
    def __call__(self, *args):
        name = '.'.join(self.path)
        with open(${JSON.stringify(join(dir, 'calls.jsonl'))}, 'a') as f: f.write(json.dumps([name, list(args)]) + '\\n')
        if name.endswith('get_by_uuid'): return 'OpaqueRef:%s:%s' % (self.path[0], args[0])
class _S:
    xenapi = _N([])
def xapi_local(): return _S()
`,
      )
      const text = xe.vmMigrate(`vm-1'$(x)`, 'host-2', NET_STORAGE.uuid).text
      const r = spawnSync('sh', ['-c', text], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: dir } })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      const calls = readFileSync(join(dir, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as [string, unknown[]])
      expect(calls).toEqual([
        ['login_with_password', ['root', '', '1.0', 'miglab']],
        ['VM.get_by_uuid', [`vm-1'$(x)`]],
        ['host.get_by_uuid', ['host-2']],
        ['network.get_by_uuid', [NET_STORAGE.uuid]],
        ['VM.pool_migrate', [`OpaqueRef:VM:vm-1'$(x)`, 'OpaqueRef:host:host-2', { live: 'true', network: `OpaqueRef:network:${NET_STORAGE.uuid}` }]],
        ['session.logout', []],
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an unknown network is refused before anything moves, naming the networks there are', async () => {
    const { pool, a, b, d } = setup([])
    const err = await d.migrate('web-01', a, b, 'precopy', { ...params, migrationNetwork: '00000000-0000-4000-8000-000000000000' }, hooksFor().hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'xen_network_unknown', message: expect.stringContaining('00000000-0000-4000-8000-000000000000'), detail: { hint: expect.stringContaining(`Storage network (${NET_STORAGE.uuid})`) } })
    expect(pool.started).toBeUndefined()
  })

  it('an xapi older than the network option is refused, since it would silently use the management network', async () => {
    const { pool, a, b, d } = setup([])
    pool.xapiBuild = '1.249.32'
    await expect(d.migrate('web-01', a, b, 'precopy', onStorage, hooksFor().hooks)).rejects.toMatchObject({ code: 'xen_network_choice_unsupported', message: expect.stringContaining('1.249.32') })
    expect(pool.started).toBeUndefined()
  })

  it('a pool master outside the pair is refused with what to do', async () => {
    const { pool, a, b, d } = setup([])
    pool.master = 'host-c-uuid'
    await expect(d.migrate('web-01', a, b, 'precopy', onStorage, hooksFor().hooks)).rejects.toMatchObject({ code: 'xen_master_not_in_lab', detail: { hint: expect.stringMatching(/leave the migration network empty/) } })
    expect(pool.started).toBeUndefined()
  })
})

describe("xe's error descriptions (datamodel_errors.ml wording) → MigLab errors", () => {
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
      { vm: 'vm-uuid-1 (web-01)', expected: 'running', actual: 'halted' },
      'xen_vm_power_state',
      /halted, not running/,
    ],
    ["You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR.", { vm: 'vm-uuid-1 (web-01)', sr: 'sr-uuid-9 (Local storage)' }, 'xen_vm_requires_sr', /sr-uuid-9/],
    ["You attempted to run a VM on a host which doesn't have a PIF on a Network needed by the VM. The VM has at least one VIF attached to the Network.", { vm: 'vm-uuid-1', network: 'net-1 (Storage network)' }, 'xen_vm_requires_net', /Storage network/],
    ['There were no servers available to complete the specified operation.', {}, 'xen_no_hosts_available', /no host/],
    ['The host toolstack is still initialising. Please wait.', {}, 'xen_host_booting', /still starting/],
    [
      'You gave an invalid object reference. The object may have recently been deleted. The class parameter gives the type of reference given, and the handle parameter echoes the bad value given.',
      { class: 'VM', handle: 'OpaqueRef:dead' },
      'xen_object_gone',
      /VM .*OpaqueRef:dead/,
    ],
    [UUID_INVALID, { type: 'task', uuid: 'task-uuid-9' }, 'xen_uuid_unknown', /no task with uuid task-uuid-9/],
    ['An error occurred during the migration process.', { vm: 'vm-uuid-1', source: 'host-a', destination: 'host-b', msg: 'VDI mirroring not available' }, 'xen_migrate_failed', /VDI mirroring not available/],
    ['This host has no PIF on the given network.', { host: 'host-b-uuid (xs-b)', network: 'net-1 (Storage network)' }, 'xen_network_not_on_host', /Storage network/],
    ['The specified interface cannot be used because it has no IP address', { interface: 'pif-1' }, 'xen_network_no_ip', /no IP address/],
    ['The operation you requested cannot be performed because the specified PIF is currently unplugged.', { PIF: 'pif-1' }, 'xen_network_unplugged', /unplugged/],
    ['Another operation involving the object is currently in progress', { class: 'VM', object: 'vm-uuid-1', operation_type: 'pool_migrate', operation_ref: 'OpaqueRef:t' }, 'xen_operation_in_progress', /a pool_migrate on the VM/],
    ['Not enough server memory is available to perform this operation.', { needed: String(2 * 1024 ** 3), available: String(1024 ** 3) }, 'xen_host_memory', /2\.00 GiB needed, 1\.00 GiB available/],
  ]

  it.each(cases)('%s', (description, p, code, message) => {
    const err = xeError(xeFailure(description, p), `xe vm-migrate 'uuid=vm-uuid-1'`)
    expect(err).toMatchObject({ code, message: expect.stringMatching(message), detail: { hint: expect.any(String), command: `xe vm-migrate 'uuid=vm-uuid-1'` } })
    expect(err.detail?.hint?.length).toBeGreaterThan(10)
  })

  it('a failed task\'s error_info maps by code, parameters in datamodel order', () => {
    expect(xapiError(['VM_BAD_POWER_STATE', 'OpaqueRef:vm1', 'running', 'suspended'], {})).toMatchObject({ code: 'xen_vm_power_state', message: expect.stringContaining('suspended, not running') })
    expect(xapiError(['HOST_STILL_BOOTING'], {})).toMatchObject({ code: 'xen_host_booting' })
    expect(xapiError(['SR_BACKEND_FAILURE_44', '', 'no space'], {})).toBeUndefined()
  })

  it('an unknown description stays xe\'s own sentence', () => {
    expect(xeError(xeFailure('Cannot migrate a VM with more than one snapshot.', { vm: 'vm-uuid-1 (web-01)' }), 'xe x')).toMatchObject({ code: 'xe_failed', message: 'xe: Cannot migrate a VM with more than one snapshot.', detail: { xe: { params: { vm: 'vm-uuid-1 (web-01)' } } } })
  })
})

describe('xe command builders', () => {
  const hostile = `x; rm -rf / $(reboot) 'q',y`

  it('quote hostile VM names: the exact command text, and xe receives exactly one argument', () => {
    const text = xe.vmUuidsByName(hostile).text
    expect(text).toBe(`xe vm-list 'name-label=x; rm -rf / $(reboot) '\\''q'\\'',y' 'is-control-domain=false' 'params=uuid' --minimal`)
    expect(argvOf(text)).toEqual(['xe', 'vm-list', `name-label=${hostile}`, 'is-control-domain=false', 'params=uuid', '--minimal'])
    expect(xe.vmShutdown('u-1', true).text).toBe(`xe vm-shutdown 'uuid=u-1' --force`)
    expect(xe.vmStart('u-1', 'h-1').text).toBe(`xe vm-start 'uuid=u-1' 'on=h-1'`)
    expect(xe.taskRecord('t-1').text).toBe(`xe task-list 'uuid=t-1' 'params=uuid,status,created,finished,error_info,result'`)
    expect(argvOf(xe.taskProgress(hostile).text)).toEqual(['xe', 'task-param-get', `uuid=${hostile}`, 'param-name=progress'])
    expect(argvOf(xe.networkRecord(hostile).text)).toEqual(['xe', 'network-list', `uuid=${hostile}`, 'params=uuid,name-label,bridge'])
  })

  it('runs vm-migrate detached with its exit status appended to the log', () => {
    const argv = argvOf(xe.detached('/tmp/x.log', xe.vmMigrateArgv(hostile, 'h-1')).text)
    expect(argv.slice(3)).toEqual(['sh', '/tmp/x.log', 'xe', 'vm-migrate', `uuid=${hostile}`, 'host-uuid=h-1', 'live=true'])
  })
})
