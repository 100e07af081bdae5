import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigLabError } from '../../../shared/errors'
import { pollUntil } from '../../util/poll'
import { run, spawnDaemon } from '../exec'
import type { LabPlan, NodePlan } from '../plan'
import { commandLineOf, isRunning, readPidFile } from '../processes'
import { readPublicKey, type PublicKey } from '../sshd'
import type { LabPaths } from '../state'
import { canConnect } from '../tcp'
import type { Dom0Image } from './dom0-image'

export const DOM0_READY = 'MIGLAB-DOM0-READY'
/** Measured: dom0 answers SSH ~20–26 s after QEMU starts under TCG; a loaded machine needs more. */
const BOOT_TIMEOUT_MS = 240_000

/**
 * The configuration that keeps data intact under TCG (XEN-LAB-RECIPE.md): two QEMU vCPUs with dom0
 * pinned to one (domUs get the other, `cpus = "1"`), SMAP/SMEP off (else dom0 faults at once in
 * create_bounce_frame), EPYC without MONITOR (Xen's idle loop panics on MWAIT), dom0 memory fixed.
 */
export const XEN_ARGS = ['console=com1', 'com1=115200,8n1', 'dom0_mem=768M,max:768M', 'dom0_max_vcpus=1', 'dom0_vcpus_pin', 'noreboot', 'smap=0', 'smep=0']
export const HOST_MEMORY_MIB = 2048

/** A Xen host's tap: on the lab's switch bridge, in the switch namespace. */
export const hostTap = (index: number): string => `x${index + 1}`

export interface HostFiles {
  dir: string
  pid: string
  serial: string
  log: string
  seed: string
  hostKey: string
  /** QEMU writes the snapshot=on overlay here ($TMPDIR): `lab down` removes it even after SIGKILL. */
  tmp: string
}

export const hostFiles = (paths: LabPaths, node: NodePlan): HostFiles => {
  const dir = paths.nodeDir(node.name)
  return {
    dir,
    pid: join(dir, 'qemu.pid'),
    serial: join(dir, 'serial.log'),
    log: join(dir, 'qemu.log'),
    seed: join(dir, 'seed.tar'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    tmp: join(dir, 'tmp'),
  }
}

/** The host NIC's MAC: QEMU's OUI and the host address, so it is stable and unique in the lab. */
export function hostMac(ip: string): string {
  const [, b, c, d] = ip.split('.').map(Number)
  return `52:54:00:${[b, c, d].map((n) => n.toString(16).padStart(2, '0')).join(':')}`
}

/** QEMU joins option values with commas: a path holding one would be read as two options. */
function commaFree(path: string): string {
  if (path.includes(',')) throw new MigLabError('bad_path', `The Xen lab cannot boot from a path with a comma: ${path}.`, { hint: 'Use a data directory without commas in its path.' })
  return path
}

/** The whole QEMU command line of one Xen host (argv, no shell). */
export function hostQemuArgv(plan: LabPlan, index: number, image: Dom0Image, files: HostFiles): string[] {
  const node = plan.nodes[index]
  // net.ifnames=0: the initrd's udev would rename eth0, which dom0's startup puts on xenbr0.
  const dom0 = [commaFree(image.kernel), 'console=hvc0', 'root=/dev/vda', 'rw', 'init=/xeninit', 'net.ifnames=0', `miglab.name=${node.name}`, `miglab.ip=${node.ip}/${plan.prefixLength}`].join(' ')
  return [
    'qemu-system-x86_64',
    '-name', `${plan.prefix}-xen-${node.name}`,
    '-accel', 'tcg',
    '-cpu', 'EPYC,-monitor',
    '-smp', '2',
    '-m', String(HOST_MEMORY_MIB),
    '-nodefaults', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-serial', `file:${commaFree(files.serial)}`,
    '-kernel', commaFree(image.xen),
    '-append', XEN_ARGS.join(' '),
    // Multiboot modules: dom0's kernel with its command line, then its initrd.
    '-initrd', `${dom0},${commaFree(image.initrd)}`,
    '-drive', `file=${commaFree(image.disk)},if=virtio,format=raw,snapshot=on`,
    '-drive', `file=${commaFree(files.seed)},if=virtio,format=raw,readonly=on`,
    '-netdev', `tap,id=n0,ifname=${hostTap(index)},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${hostMac(node.ip)},romfile=`,
  ]
}

/** The QEMU of a host if it is ours and alive (the pid file could name a recycled pid). */
export function runningHost(files: HostFiles): number | undefined {
  const pid = readPidFile(files.pid)
  return pid && isRunning(pid) && commandLineOf(pid).includes(`file:${files.serial}`) ? pid : undefined
}

export interface SeedKeys {
  /** The lab client's public key (MigLab logs in with it). */
  clientPub: string
  /** The key pair every dom0 uses to reach the others as root (`xl migrate` runs ssh). */
  trustKey: string
  /** Every host of the lab with its pinned host key, for dom0's known_hosts. */
  hosts: { ip: string; pub: PublicKey }[]
}

/** The seed disk: a tar archive dom0's startup unpacks over / — this host's identity and the lab's SSH trust. */
export async function writeSeed(files: HostFiles, keys: SeedKeys): Promise<void> {
  const stage = join(files.dir, 'seed')
  rmSync(stage, { recursive: true, force: true })
  mkdirSync(join(stage, 'etc', 'ssh'), { recursive: true, mode: 0o755 })
  mkdirSync(join(stage, 'root', '.ssh'), { recursive: true, mode: 0o700 })
  const put = (rel: string, content: string | Buffer, mode: number) => writeFileSync(join(stage, rel), content, { mode })
  put('etc/ssh/ssh_host_ed25519_key', readFileSync(files.hostKey), 0o600)
  put('etc/ssh/ssh_host_ed25519_key.pub', readFileSync(`${files.hostKey}.pub`), 0o644)
  put('root/.ssh/id_ed25519', readFileSync(keys.trustKey), 0o600)
  put('root/.ssh/id_ed25519.pub', readFileSync(`${keys.trustKey}.pub`), 0o644)
  put('root/.ssh/authorized_keys', `${readFileSync(keys.clientPub, 'utf8').trim()}\n${readFileSync(`${keys.trustKey}.pub`, 'utf8').trim()}\n`, 0o600)
  put('root/.ssh/known_hosts', keys.hosts.map((h) => `${h.ip} ${h.pub.algorithm} ${h.pub.key}`).join('\n') + '\n', 0o644)
  await run(['tar', '-cf', files.seed, '--owner=0', '--group=0', '-C', stage, 'etc/ssh', 'root/.ssh'])
  rmSync(stage, { recursive: true, force: true })
}

export const hostPublicKey = (files: HostFiles): PublicKey => readPublicKey(`${files.hostKey}.pub`)

/** Starts the host's QEMU in the switch namespace (where its tap is) unless it already runs. */
export async function startHost(plan: LabPlan, index: number, image: Dom0Image, files: HostFiles): Promise<{ pid: number; started: boolean }> {
  const running = runningHost(files)
  if (running) return { pid: running, started: false }
  rmSync(files.tmp, { recursive: true, force: true })
  mkdirSync(files.tmp, { recursive: true })
  rmSync(files.serial, { force: true })
  const pid = await spawnDaemon(['ip', 'netns', 'exec', plan.switchNamespace, 'env', `TMPDIR=${files.tmp}`, ...hostQemuArgv(plan, index, image, files)], files.log)
  writeFileSync(files.pid, `${pid}\n`)
  return { pid, started: true }
}

const readText = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '')
const tail = (text: string, lines = 15): string => text.trimEnd().split('\n').slice(-lines).join('\n')

/** Waits for dom0's ready marker and its sshd; a QEMU that died or a failed dom0 step is reported with its console. */
export async function waitForHost(node: NodePlan, files: HostFiles, signal?: AbortSignal): Promise<void> {
  const ready = await pollUntil(
    async () => {
      const serial = readText(files.serial)
      const failed = /MIGLAB-ERROR[^\n]*|Panic on CPU[^\n]*|Kernel panic[^\n]*/.exec(serial)
      if (failed) return { error: failed[0], serial }
      if (!runningHost(files)) return { error: 'QEMU exited', serial: `${readText(files.log)}\n${serial}` }
      return serial.includes(DOM0_READY) && (await canConnect(node.ip, 22, 1000)) ? { error: undefined, serial } : undefined
    },
    { timeoutMs: BOOT_TIMEOUT_MS, intervalMs: 500, signal },
  )
  if (ready && !ready.error) return
  throw new MigLabError('xen_lab_host_failed', `Xen host ${node.name} did not come up: ${ready?.error ?? `no SSH on ${node.ip}:22 after ${BOOT_TIMEOUT_MS / 1000} s`}.`, {
    stderrTail: tail(ready?.serial ?? readText(files.serial)),
    hint: `Its console is in ${files.serial}; \`miglab lab down --hypervisor xen\` then \`miglab lab up --demo --hypervisor xen\`.`,
  })
}
