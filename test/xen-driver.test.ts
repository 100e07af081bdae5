import { spawnSync } from 'node:child_process'
import type { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { migrationParams } from '../src/shared/contract/migration'
import type { MigrateHooks, MigrationEvent, MigrationSample } from '../src/main/hypervisors/driver'
import type { LinkExecResult, NodeLink } from '../src/main/hypervisors/node-link'
import { XenDriver } from '../src/main/hypervisors/xen/driver'
import { parseMap, parseMinimal, parseRecords, parseSet, parseXeTime } from '../src/main/hypervisors/xen/xe-parse'
import type { RemoteCommand } from '../src/main/remote/command'
import * as xe from '../src/main/remote/xe'

/*
 * MOCK: no XenServer pool can run here; a NodeLink stand-in answers xe commands with the output
 * formats documented in the XenServer CLI reference (`--minimal` comma lists; `name ( RO): value`
 * records separated by blank lines; task status pending/success/failure/cancelling/cancelled).
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
  progress: string
  error_info?: string
}

/** A two-host pool behind one xe: answers from state, and moves the VM when the task succeeds. */
class FakePool {
  readonly calls: string[] = []
  hosts = [
    { uuid: 'host-a-uuid', 'name-label': 'xs-a', hostname: 'xs-a', address: '10.0.0.1' },
    { uuid: 'host-b-uuid', 'name-label': 'xs-b', hostname: 'xs-b', address: '10.0.0.2' },
  ]
  vm = { uuid: 'vm-uuid-1', 'name-label': 'web-01', 'power-state': 'running', 'resident-on': 'host-a-uuid', 'memory-static-max': String(512 * 2 ** 20) }
  taskUuid = 'task-uuid-1'
  taskStarted = false
  taskGone = false
  cancelled = false
  log = ''
  constructor(private readonly steps: TaskStep[]) {}
  private step = 0

  exec(text: string): LinkExecResult {
    this.calls.push(text)
    const argv = argvOf(text)
    const ok = (stdout: string): LinkExecResult => ({ code: 0, stdout, stderr: '' })
    const opt = (name: string) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
    if (argv[0] === 'sh' && argv[5] === 'xe') {
      this.taskStarted = true
      return ok('4242\n')
    }
    if (argv[0] === 'cat') return ok(this.log)
    if (argv[0] === 'rm') return ok('')
    if (argv[0] !== 'xe') return { code: 127, stdout: '', stderr: `${argv[0]}: not found` }
    switch (argv[1]) {
      case 'host-list':
        return ok(records(this.hosts))
      case 'host-param-get':
        return ok(
          opt('param-name') === 'software-version'
            ? 'product_version: 8.2.1; product_brand: XCP-ng; xapi: 1.20; xen: 4.13.5\n'
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
        if (opt('status') === 'pending') return ok(this.taskStarted ? records([{ uuid: 'old-task-uuid', 'name-label': 'VM.start' }, { uuid: this.taskUuid, 'name-label': 'Async.VM.pool_migrate', created: '20240521T10:00:00Z' }]) : '')
        if (this.taskGone) return ok('')
        const s = this.cancelled ? { status: 'cancelled', progress: '1.000' } : this.steps[Math.min(this.step++, this.steps.length - 1)]
        const done = s.status !== 'pending'
        if (done) this.finish(s.status)
        return ok(records([{ uuid: this.taskUuid, status: s.status, progress: s.progress, created: '20240521T10:00:00Z', finished: done ? '20240521T10:00:04.200Z' : '19700101T00:00:00Z', error_info: s.error_info ?? '', result: '' }]))
      }
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
    return this.pool.exec(command.text)
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
      { status: 'pending', progress: '0.300' },
      { status: 'pending', progress: '0.800' },
      { status: 'success', progress: '1.000' },
    ])
    const { samples, events, hooks } = hooksFor()
    const out = await d.migrate('web-01', a, b, 'precopy', params, hooks)
    expect(samples.map((s) => s.values['xen.progress'])).toEqual([30, 80, 100])
    expect(events.filter((e) => e.kind === 'status').map((e) => e.data.status)).toEqual(['pending', 'success'])
    expect(events.find((e) => e.kind === 'task')?.data.task).toBe('task-uuid-1')
    expect(out.figures).toEqual({ total_ms: 4200 })
    // What xe cannot report is absent with the reason, never a made-up 0.
    expect(Object.keys(out.unmeasured).sort()).toEqual(['passes', 'qemu_downtime_ms', 'stop_resume_ms', 'transferred_bytes'])
    expect(out.raw).toMatchObject({ totalFrom: 'xapi task created → finished' })
    expect(pool.vm['resident-on']).toBe('host-b-uuid')
    const start = pool.calls.find((c) => c.includes('vm-migrate'))!
    expect(argvOf(start).slice(5)).toEqual(['xe', 'vm-migrate', 'uuid=vm-uuid-1', 'host-uuid=host-b-uuid', 'live=true'])
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

  it('a failed task becomes a MigLabError carrying error_info, the command and the xe output', async () => {
    const { a, b, d } = setup([
      { status: 'pending', progress: '0.300' },
      { status: 'failure', progress: '1.000', error_info: 'VM_MIGRATE_FAILED; OpaqueRef:0c1d; Xenguest: out of memory' },
    ])
    const err = await d.migrate('web-01', a, b, 'precopy', params, hooksFor().hooks).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'migration_failed',
      message: 'xe vm-migrate failed: VM_MIGRATE_FAILED, OpaqueRef:0c1d, Xenguest: out of memory.',
      detail: { xeErrorInfo: ['VM_MIGRATE_FAILED', 'OpaqueRef:0c1d', 'Xenguest: out of memory'], command: `xe vm-migrate 'uuid=vm-uuid-1' 'host-uuid=host-b-uuid' 'live=true'` },
    })
    expect((err as { detail: { stderrTail: string } }).detail.stderrTail).toContain('The server failed to handle your request.')
  })

  it('refuses strategies XenServer cannot run', async () => {
    const { a, b, d } = setup([])
    await expect(d.migrate('web-01', a, b, 'postcopy', params, hooksFor().hooks)).rejects.toMatchObject({ code: 'strategy_unsupported' })
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
    expect(xe.taskRecord('t-1').text).toBe(`xe task-list 'uuid=t-1' 'params=uuid,status,progress,created,finished,error_info,result'`)
  })

  it('runs vm-migrate detached with its exit status appended to the log', () => {
    const argv = argvOf(xe.detached('/tmp/x.log', xe.vmMigrateArgv(hostile, 'h-1')).text)
    expect(argv.slice(3)).toEqual(['sh', '/tmp/x.log', 'xe', 'vm-migrate', `uuid=${hostile}`, 'host-uuid=h-1', 'live=true'])
  })
})
