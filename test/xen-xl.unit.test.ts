import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { domainConfig } from '../src/main/hypervisors/xen-xl/domain-config'
import { XlDriver } from '../src/main/hypervisors/xen-xl/driver'
import { migrationParams } from '../src/shared/contract/migration'
import { baseName, lineSplitter, parseXlList, phaseFigures, phaseOf, type XlPhase } from '../src/main/hypervisors/xen-xl/xl-parse'
import { debianMirror, parseDeb822, parseOneLine } from '../src/main/lab/xen/apt-mirror'
import { hostQemuArgv, XEN_ARGS } from '../src/main/lab/xen/host'
import { planLab } from '../src/main/lab/plan'
import * as xl from '../src/main/remote/xl'
import { run } from '../src/main/lab/exec'
import { isRunning } from '../src/main/lab/processes'
import { pollUntil } from '../src/main/util/poll'

const fixture = (f: string) => readFileSync(join(__dirname, 'fixtures', 'xl', f), 'utf8')

describe('xl migrate phase lines (real output of xl 4.17 between two lab dom0s)', () => {
  const lines = fixture('migrate-ok.txt').split('\n').filter(Boolean)

  it('names each phase in order, once, including xl\'s own "successsfully" spelling', () => {
    const phases = lines.map(phaseOf).filter(Boolean)
    expect(phases).toEqual(['ready', 'saving', 'restored', 'transfer_complete', 'permission', 'permission', 'started', 'successful'])
  })

  it('a receiver killed mid-stream (real output): ready seen, then the rollback line; never successful', () => {
    const phases = fixture('migrate-receiver-killed.txt').split('\n').filter(Boolean).map(phaseOf).filter(Boolean)
    expect(phases).toEqual(['saving', 'ready', 'failed'])
  })

  it('the rollback line is the failure', () => {
    expect(phaseOf('Migration failed, resuming at sender.')).toBe('failed')
    expect(phaseOf('migration sender: Target reports successful startup.')).toBeUndefined()
  })

  it('phase times are spans between the first sighting of each line; a span with an end never seen is absent, not 0', () => {
    const seen: Partial<Record<XlPhase, number>> = { ready: 1000, restored: 43_000, transfer_complete: 48_200, started: 48_400, successful: 53_000 }
    expect(phaseFigures(seen, 200)).toEqual({ total_ms: 52_800, xl_stream_ms: 42_000, xl_attach_ms: 5200, xl_start_ms: 200 })
    const cut = phaseFigures({ ready: 1000, restored: 2000 }, 0)
    expect(cut).toEqual({ xl_stream_ms: 1000 })
    expect(cut).not.toHaveProperty('total_ms')
  })

  it('lines are cut where they end, however the stream is chunked', () => {
    const got: string[] = []
    const split = lineSplitter((l) => got.push(l))
    const text = lines.join('\n') + '\n'
    for (let i = 0; i < text.length; i += 7) split.push(Buffer.from(text.slice(i, i + 7)))
    split.end()
    expect(got).toEqual(lines)
  })
})

describe('xl list', () => {
  it('lists guests without dom0, with MigLab states and the migration names resolved', () => {
    const d = parseXlList(fixture('list.txt'))
    expect(d.map((x) => [x.name, x.id, x.memoryMiB, x.state])).toEqual([
      ['guest', 1, 128, 'running'],
      ['other--incoming', 3, 128, 'paused'],
      ['old--migratedaway', 2, 128, 'shutdown'],
    ])
    expect(baseName('other--incoming')).toEqual({ vm: 'other', role: 'incoming' })
    expect(baseName('guest')).toEqual({ vm: 'guest', role: 'vm' })
  })
})

describe('domain config MigLab writes', () => {
  const spec = { name: 'guest', memoryMiB: 128, kernel: '/k', initrd: '/i', append: 'console=hvc0 lab.ip=198.18.1.100/24', nic: { mac: '00:16:3E:12:01:64', taps: {} } }

  it('a PV guest whose vCPU stays off dom0\'s pinned pCPU, with a vif on xenbr0 and a stable MAC', () => {
    const c = domainConfig(spec)
    for (const line of ['name = "guest"', 'type = "pv"', 'memory = 128', 'cpus = "1"', `vif = [ 'bridge=xenbr0,mac=00:16:3e:12:01:64' ]`, 'extra = "console=hvc0 lab.ip=198.18.1.100/24"']) {
      expect(c.split('\n')).toContain(line)
    }
  })

  it('refuses what xl would misread or fail on, with the reason', () => {
    expect(() => domainConfig({ ...spec, memoryMiB: 64 })).toThrow(/segment kernel too large/)
    expect(() => domainConfig({ ...spec, name: 'x"; rm -rf /' })).toThrow(/cannot name a Xen domain/)
    expect(() => domainConfig({ ...spec, append: 'a" b' })).toThrow(/quotes/)
    expect(() => domainConfig({ ...spec, name: 'g--incoming' })).toThrow(/incoming/)
    expect(() => domainConfig({ ...spec, disk: "/mnt/x',target=/etc/shadow" })).toThrow(/disk path/)
  })

  it('a run with a shared disk folder gives the guest a raw disk there as xvda, the same path on every node; without one, none', () => {
    const run = (params: object) => ({ strategy: 'precopy' as const, workload: { kind: 'idle' as const }, params: migrationParams.parse(params) })
    const withDisk = new XlDriver().definition(spec, run({ sharedDiskDir: '/mnt/miglab/' }))
    expect(withDisk.disk).toBe('/mnt/miglab/miglab-disks/guest.img')
    expect(domainConfig(withDisk).split('\n')).toContain(`disk = [ 'format=raw,vdev=xvda,access=rw,target=/mnt/miglab/miglab-disks/guest.img' ]`)
    const without = new XlDriver().definition(withDisk, run({}))
    expect(without.disk).toBeUndefined()
    expect(domainConfig(without)).not.toMatch(/^disk/m)
  })
})

describe('remote xl commands', () => {
  it('every value is one quoted argument', () => {
    expect(xl.xlMigrate('guest', '198.18.1.12').text).toBe("xl migrate -s 'ssh -o BatchMode=yes -o ConnectTimeout=10' guest 198.18.1.12")
    expect(xl.xlDestroy("a'b").text).toBe("xl destroy 'a'\\''b'")
    expect(xl.gateReceive('198.18.1.12', '/tmp/f').text).toContain("root@198.18.1.12 'cat -- /tmp/f'")
    // pkill -f must not match the shell that runs it (its command line holds the pattern's text).
    const pattern = new RegExp(xl.killMigrateReceive().text.match(/'(.*)'/)![1])
    expect(pattern.test('/usr/lib/xen-4.17/bin/xl migrate-receive')).toBe(true)
    expect(pattern.test(xl.killMigrateReceive().text)).toBe(false)
  })
})

describe('Xen lab', () => {
  it('reads the mirror from this machine\'s apt sources, in both formats', () => {
    const deb822 = parseDeb822('Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\nComponents: main\n')
    expect(debianMirror(deb822, 'bookworm')).toBe('http://mirror.example/debian')
    expect(debianMirror(parseOneLine('# x\ndeb-src http://a/ bookworm main\ndeb [arch=amd64] http://b/debian bookworm main contrib\n'), 'bookworm')).toBe('http://b/debian')
    expect(parseDeb822('Types: deb\nEnabled: no\nURIs: http://c/\nSuites: bookworm\nComponents: main\n')).toEqual([])
    expect(() => debianMirror([], 'bookworm')).toThrow(/None of this machine's apt sources/)
  })

  it('boots each host with the configuration that keeps data intact under TCG', () => {
    const plan = planLab('mxt', '198.19.5.0/24', 2)
    const argv = hostQemuArgv(plan, 1, { key: 'k', xen: '/c/xen', kernel: '/c/vmlinuz', initrd: '/c/initrd.img', disk: '/c/dom0.img', kernelRelease: 'r' }, { dir: '/d', pid: '/d/p', serial: '/d/serial.log', log: '/d/l', seed: '/d/seed.tar', hostKey: '/d/k', tmp: '/d/tmp' })
    const arg = (flag: string) => argv[argv.indexOf(flag) + 1]
    expect(arg('-smp')).toBe('2')
    expect(arg('-cpu')).toBe('EPYC,-monitor')
    expect(arg('-append')).toBe(XEN_ARGS.join(' '))
    for (const a of ['smap=0', 'smep=0', 'dom0_mem=768M,max:768M', 'dom0_max_vcpus=1', 'dom0_vcpus_pin']) expect(arg('-append').split(' ')).toContain(a)
    expect(arg('-initrd')).toMatch(/^\/c\/vmlinuz .*miglab\.name=mxt-n2 miglab\.ip=198\.19\.5\.12\/24,\/c\/initrd\.img$/)
    expect(argv).toContain('file=/c/dom0.img,if=virtio,format=raw,snapshot=on')
    expect(argv).toContain('tap,id=n0,ifname=x2,script=no,downscript=no')
  })
})

describe('cancelling a local build step (debootstrap runs for minutes)', () => {
  it('kills the command and what it started, and rejects with cancelled', async () => {
    const abort = new AbortController()
    const pidFile = `/tmp/miglab-cancel-${process.pid}`
    const running = run(['sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'sh', pidFile], { signal: abort.signal })
    const child = await pollUntil(() => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? Number(readFileSync(pidFile, 'utf8')) : undefined), { timeoutMs: 5000 })
    abort.abort()
    await expect(running).rejects.toMatchObject({ code: 'cancelled' })
    rmSync(pidFile, { force: true })
    expect(await pollUntil(() => (isRunning(child!) ? undefined : true), { timeoutMs: 5000 })).toBe(true)
  })
})
