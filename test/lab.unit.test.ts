import { describe, expect, it } from 'vitest'
import { formatCidr, overlaps, parseIpv4Cidr, parseLabSubnet } from '../src/shared/cidr'
import { inputs } from '../src/shared/api'
import { displayCommand, run } from '../src/main/lab/exec'
import { qemuArgs, guestFiles } from '../src/main/lab/guest-boot'
import { guestCmdline } from '../src/main/lab/guest-cmdline'
import { guestBuildSteps, guestCacheKey, parseKernelPackage, readGuestSources, type GuestInputs } from '../src/main/lab/guest-image'
import { isLabNamespace, planLab } from '../src/main/lab/plan'
import { isRunning } from '../src/main/lab/processes'
import { isStaticElf } from '../src/main/lab/prereqs'
import { sshdConfig } from '../src/main/lab/sshd'
import { LabPaths } from '../src/main/lab/state'

describe('lab subnets (CIDR)', () => {
  it('accepts a network address with room for nodes and a guest', () => {
    const r = parseLabSubnet('198.18.0.0/24')
    expect(r.ok && formatCidr(r.cidr)).toBe('198.18.0.0/24')
    expect(parseLabSubnet('10.20.0.0/16').ok).toBe(true)
  })

  it.each([
    ['198.18.0.1/24', 'did you mean 198.18.0.0/24'],
    ['198.18.0.0/26', 'prefix length'],
    ['198.18.0.0', 'expected an IPv4 subnet'],
    ['198.18.0.256/24', 'expected an IPv4 subnet'],
    ['hello', 'expected an IPv4 subnet'],
    ['127.0.0.0/8', 'not a unicast range'],
    ['224.0.0.0/8', 'not a unicast range'],
  ])('refuses %s', (text, reason) => {
    const r = parseLabSubnet(text)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.reason).toContain(reason)
  })

  it('overlap covers containment both ways and nothing else', () => {
    const lab = parseIpv4Cidr('198.18.0.0/24')!
    expect(overlaps(lab, parseIpv4Cidr('198.18.0.0/15')!)).toBe(true)
    expect(overlaps(lab, parseIpv4Cidr('198.18.0.77')!)).toBe(true)
    expect(overlaps(lab, parseIpv4Cidr('198.18.1.0/24')!)).toBe(false)
  })

  it('the demo.up schema validates nodes and subnet at the door', () => {
    const schema = inputs['demo.up']
    expect(schema.safeParse({}).success).toBe(true)
    expect(schema.safeParse({ nodes: 3, subnet: '198.19.4.0/24' }).success).toBe(true)
    for (const bad of [{ nodes: 0 }, { nodes: 9 }, { nodes: 1.5 }, { subnet: '198.18.0.1/24' }, { extra: true }]) {
      expect(schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
    const issue = schema.safeParse({ subnet: '198.18.0.0/28' })
    expect(!issue.success && issue.error.issues[0].message).toContain('prefix length')
  })
})

describe('lab plan: names and addresses', () => {
  it('gives management .1, nodes .11, .12…, guest .100, all names from the prefix', () => {
    const p = planLab('mlab', '198.18.0.0/24', 2)
    expect(p).toMatchObject({
      switchNamespace: 'mlab-sw',
      managementLink: 'mlab0',
      managementIp: '198.18.0.1',
      guestIp: '198.18.0.100',
      guestMac: '52:54:00:12:00:64',
      prefixLength: 24,
    })
    expect(p.nodes).toEqual([
      { name: 'mlab-n1', namespace: 'mlab-n1', ip: '198.18.0.11', switchPort: 'n1' },
      { name: 'mlab-n2', namespace: 'mlab-n2', ip: '198.18.0.12', switchPort: 'n2' },
    ])
  })

  it('works inside larger subnets and with another prefix', () => {
    const p = planLab('mlt', '198.19.0.0/16', 8)
    expect(p.nodes.map((n) => n.ip).at(-1)).toBe('198.19.0.18')
    expect(p.guestMac).toBe('52:54:00:13:00:64')
    expect(p.nodes[7].namespace).toBe('mlt-n8')
  })

  it('refuses a prefix that would not fit an interface name, and bad counts', () => {
    expect(() => planLab('way-too-long', '198.18.0.0/24', 2)).toThrow(/prefix/)
    expect(() => planLab('Mlab', '198.18.0.0/24', 2)).toThrow(/prefix/)
    expect(() => planLab('mlab', '198.18.0.0/24', 0)).toThrow(/1..8 nodes/)
    expect(() => planLab('mlab', '198.18.0.5/24', 2)).toThrow(/host bits/)
  })

  it('recognises only its own namespaces', () => {
    expect(['mlab-sw', 'mlab-n1', 'mlab-n12'].every((n) => isLabNamespace('mlab', n))).toBe(true)
    expect(['mlab', 'mlab-x', 'mlt-n1', 'mlab-n1x', 'xmlab-n1'].some((n) => isLabNamespace('mlab', n))).toBe(false)
  })
})

describe('guest kernel command line', () => {
  it('carries the knobs init reads', () => {
    expect(guestCmdline({ ip: '198.18.0.100/24', dirty: { sizeMiB: 64, rateMiBps: 50 }, echoPort: 7777 })).toBe(
      'console=ttyS0 panic=-1 quiet lab.ip=198.18.0.100/24 lab.dirty=64:50 lab.echo=7777',
    )
    expect(guestCmdline({ ip: '10.0.0.100/16' })).toBe('console=ttyS0 panic=-1 quiet lab.ip=10.0.0.100/16')
  })

  it.each([
    [{ ip: '198.18.0.100' }, /lab.ip/],
    [{ ip: '198.18.0.100/24', dirty: { sizeMiB: 0, rateMiBps: 5 } }, /lab.dirty/],
    [{ ip: '198.18.0.100/24', dirty: { sizeMiB: 8, rateMiBps: -1 } }, /lab.dirty/],
    [{ ip: '198.18.0.100/24', echoPort: 70000 }, /lab.echo/],
  ])('refuses bad knobs %#', (knobs, message) => {
    expect(() => guestCmdline(knobs)).toThrow(message)
  })
})

const inputsFor = (over: Partial<GuestInputs> = {}): GuestInputs => ({
  kernel: { name: 'linux-image-6.1.0-56-cloud-amd64', release: '6.1.0-56-cloud-amd64', version: '6.1.192-2', debFile: 'linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb' },
  busybox: '/usr/bin/busybox',
  busyboxSha256: 'ab'.repeat(32),
  gccVersion: '12.2.0',
  sources: readGuestSources(),
  ...over,
})

describe('guest image builder', () => {
  it('reads the kernel package and exact version from the meta package', () => {
    const show = 'Package: linux-image-cloud-amd64\nVersion: 6.1.192-2\nDepends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n'
    expect(parseKernelPackage(show)).toEqual(inputsFor().kernel)
    expect(parseKernelPackage('Depends: linux-image-6.1.0-9-cloud-amd64 (= 1:6.1.27-1)')?.debFile).toBe('linux-image-6.1.0-9-cloud-amd64_1%3a6.1.27-1_amd64.deb')
    expect(parseKernelPackage('Package: nothing\n')).toBeUndefined()
  })

  it('cache key is stable and changes with any input', () => {
    const base = guestCacheKey(inputsFor())
    expect(guestCacheKey(inputsFor())).toBe(base)
    expect(base).toMatch(/^[0-9a-f]{16}$/)
    const sources = readGuestSources()
    expect(guestCacheKey(inputsFor({ sources: { ...sources, 'dirty.c': sources['dirty.c'] + '\n' } }))).not.toBe(base)
    expect(guestCacheKey(inputsFor({ kernel: { ...inputsFor().kernel, version: '6.1.192-3' } }))).not.toBe(base)
    expect(guestCacheKey(inputsFor({ busyboxSha256: 'cd'.repeat(32) }))).not.toBe(base)
    expect(guestCacheKey(inputsFor({ gccVersion: '13.1.0' }))).not.toBe(base)
  })

  it('is a list of plain commands: static workloads, newc cpio, manifest last before cleanup', () => {
    const steps = guestBuildSteps(inputsFor(), '/cache')
    const argvs = steps.flatMap((s) => (s.kind === 'run' ? [s.argv.join(' ')] : []))
    expect(argvs.filter((a) => a.startsWith('gcc -static -O2'))).toHaveLength(2)
    const download = steps.find((s) => s.kind === 'run' && s.argv[0] === 'apt-get')
    expect(download).toMatchObject({ cwd: '/cache/debs', creates: '/cache/debs/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb' })
    const cpio = steps.find((s) => s.kind === 'run' && s.argv[0] === 'cpio')
    expect(cpio).toMatchObject({ argv: expect.arrayContaining(['newc']), stdinFile: expect.stringMatching(/files\.list$/) })
    expect(steps.at(-2)).toMatchObject({ kind: 'write', label: 'manifest' })
    expect(steps.at(-1)).toMatchObject({ kind: 'run', argv: ['rm', '-rf', expect.stringMatching(/^\/cache\/build-/)] })
    const modules = steps.find((s) => s.label === 'copy NIC modules')
    expect(modules?.kind === 'run' && modules.argv.filter((a) => a.endsWith('.ko'))).toHaveLength(8)
  })

  it('init reads every knob and prints the ready marker', () => {
    const init = readGuestSources().init
    for (const knob of ['lab.ip=', 'lab.dirty=', 'lab.echo=', 'MIGLAB-READY']) expect(init).toContain(knob)
    expect(init).toContain('/lib/modules/load-order')
  })

  it('the NIC modules are loaded in dependency order (virtio before virtio_ring fails)', () => {
    const steps = guestBuildSteps(inputsFor(), '/cache')
    const order = steps.find((s) => s.label === 'module load order')
    expect(order?.kind === 'write' && order.content.trim().split('\n')).toEqual(['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'failover', 'net_failover', 'virtio_net'])
  })
})

describe('node sshd and guest QEMU command lines', () => {
  const plan = planLab('mlt', '198.19.7.0/24', 2)
  const paths = new LabPaths('/data', 'mlt')

  it('sshd: own address, key login as root only, the lab key', () => {
    const config = sshdConfig(paths, plan.nodes[1])
    for (const line of [
      'ListenAddress 198.19.7.12:22',
      'HostKey "/data/demo-lab/mlt/mlt-n2/ssh_host_ed25519_key"',
      'AuthorizedKeysFile "/data/demo-lab/mlt/id_ed25519.pub" .ssh/authorized_keys',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AcceptEnv LANG LC_* OMPI_*',
    ]) {
      expect(config.split('\n')).toContain(line)
    }
  })

  it('QEMU: TCG single thread, tap, QMP socket, serial file, no reboot; shared RAM under /dev/shm/<prefix>-', () => {
    const files = guestFiles(paths, plan, 'guest', true)
    const argv = qemuArgs({ plan, name: 'guest', accel: 'tcg', memoryMiB: 256, image: { kernel: '/k', initrd: '/i' }, files, append: 'x' })
    const line = argv.join(' ')
    expect(line).toContain('-accel tcg,thread=single -cpu qemu64 -m 256')
    expect(line).toContain('-netdev tap,id=n0,ifname=tap0,script=no,downscript=no')
    expect(line).toContain(`-qmp unix:${files.qmp},server=on,wait=off`)
    expect(line).toContain('-no-reboot')
    expect(files.ram).toBe('/dev/shm/mlt-guest')
    expect(line).toContain('mem-path=/dev/shm/mlt-guest,share=on')
    expect(qemuArgs({ plan, name: 'guest', accel: 'kvm', memoryMiB: 256, image: { kernel: '/k', initrd: '/i' }, files: guestFiles(paths, plan, 'guest', false), append: 'x' })).not.toContain('memory-backend-file')
  })
})

describe('local commands and processes', () => {
  it('a failed command is a MigLabError with the command and the stderr tail', async () => {
    await expect(run(['sh', '-c', 'echo first >&2; echo oops >&2; exit 3', 'x y'])).rejects.toMatchObject({
      code: 'command_failed',
      detail: { command: "sh -c 'echo first >&2; echo oops >&2; exit 3' 'x y'", stderrTail: 'first\noops' },
    })
    expect((await run(['sh', '-c', 'exit 4'], { allowFailure: true })).code).toBe(4)
    expect(displayCommand(['echo', "it's"])).toBe(`echo 'it'\\''s'`)
  })

  it('tells running processes from gone ones', () => {
    expect(isRunning(process.pid)).toBe(true)
    expect(isRunning(2 ** 22 + 12345)).toBe(false)
  })

  it('tells a static binary from a dynamic one', () => {
    expect(isStaticElf(process.execPath)).toBe(false)
  })
})
