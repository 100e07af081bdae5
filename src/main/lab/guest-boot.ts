import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { probeKvm, type Accel, type AccelProbe } from '../hypervisors/qemu/accel'
import { displayCommand, spawnDaemon } from './exec'
import { guestCmdline, READY_MARKER, type GuestKnobs } from './guest-cmdline'
import { TAP, type LabPlan, type NodePlan } from './plan'
import { isRunning, killAll, readPidFile } from './processes'
import type { LabPaths } from './state'
import { pollUntil } from '../util/poll'

export interface GuestBootOptions {
  plan: LabPlan
  paths: LabPaths
  image: { kernel: string; initrd: string }
  /** Default: the lab's first node. */
  node?: NodePlan
  /** Names the QEMU process, its files and its /dev/shm RAM; default `guest`. */
  name?: string
  memoryMiB?: number
  workload?: Omit<GuestKnobs, 'ip'>
  /** Guest RAM in /dev/shm/<prefix>-<name>, shareable with a destination QEMU (x-ignore-shared). */
  sharedRam?: boolean
  readyTimeoutMs?: number
  /** A probe already made (e.g. by `lab up`); probed now otherwise. */
  accel?: AccelProbe
}

export interface GuestHandle {
  name: string
  node: string
  pid: number
  accel: Accel
  /** Why KVM was not used, when it was not. */
  accelReason?: string
  /** QMP socket, serial log, pid file, and RAM file when shared. */
  files: GuestFiles
  ip: string
  mac: string
  /** From QEMU start to the ready marker on the serial console. */
  bootMs: number
}

export interface GuestFiles {
  pid: string
  qmp: string
  serial: string
  log: string
  ram?: string
}

export function guestFiles(paths: LabPaths, plan: LabPlan, name: string, sharedRam: boolean): GuestFiles {
  const base = join(paths.guestsDir, name)
  return {
    pid: `${base}.pid`,
    qmp: `${base}.qmp`,
    serial: `${base}.serial`,
    log: `${base}.log`,
    ...(sharedRam ? { ram: `/dev/shm/${plan.prefix}-${name}` } : {}),
  }
}

/** QEMU's command line for a lab guest: the same on every node except tap namespace, sockets and files. */
export function qemuArgs(o: { plan: LabPlan; name: string; accel: Accel; memoryMiB: number; image: GuestBootOptions['image']; files: GuestFiles; append: string }): string[] {
  const accel = o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=single', '-cpu', 'qemu64']
  const memory = o.files.ram
    ? ['-object', `memory-backend-file,id=ram0,size=${o.memoryMiB}M,mem-path=${o.files.ram},share=on`, '-machine', 'pc,memory-backend=ram0']
    : ['-machine', 'pc']
  return [
    'qemu-system-x86_64',
    '-name', `${o.plan.prefix}-${o.name}`,
    ...accel,
    '-m', String(o.memoryMiB),
    ...memory,
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', `file:${o.files.serial}`,
    '-kernel', o.image.kernel,
    '-initrd', o.image.initrd,
    '-append', o.append,
    '-netdev', `tap,id=n0,ifname=${TAP},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${o.plan.guestMac},romfile=`,
    '-qmp', `unix:${o.files.qmp},server=on,wait=off`,
  ]
}

const tail = (path: string, lines = 15) => (existsSync(path) ? readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '')

/** Stops a guest started by `bootGuest` (or left by a crash) and removes its socket and RAM file. */
export async function stopGuest(files: GuestFiles): Promise<void> {
  const pid = readPidFile(files.pid)
  if (pid) await killAll([pid])
  for (const f of [files.pid, files.qmp, files.ram]) if (f) rmSync(f, { force: true })
}

interface LaunchSpec {
  plan: LabPlan
  node: NodePlan
  name: string
  accel: Accel
  memoryMiB: number
  image: GuestBootOptions['image']
  files: GuestFiles
  append: string
  readyTimeoutMs: number
}

/** Starts QEMU in the node's namespace and waits for the ready marker; a guest that dies or stalls is cleaned up. */
async function launch(o: LaunchSpec): Promise<{ pid: number; bootMs: number }> {
  const { files } = o
  await stopGuest(files)
  rmSync(files.serial, { force: true })
  const argv = ['ip', 'netns', 'exec', o.node.namespace, ...qemuArgs(o)]
  const started = Date.now()
  const pid = await spawnDaemon(argv, files.log)
  writeFileSync(files.pid, `${pid}\n`)
  const ready = () => existsSync(files.serial) && readFileSync(files.serial, 'utf8').includes(READY_MARKER)
  const state = await pollUntil(() => (ready() ? 'ready' : isRunning(pid) ? undefined : 'dead'), { timeoutMs: o.readyTimeoutMs, intervalMs: 50 })
  if (state === 'ready') return { pid, bootMs: Date.now() - started }
  await stopGuest(files)
  throw new MigLabError('guest_boot_failed', state === 'dead' ? `Guest ${o.name} (QEMU, ${o.accel}) exited before it was ready.` : `Guest ${o.name} was not ready within ${o.readyTimeoutMs / 1000} s.`, {
    command: displayCommand(argv),
    stderrTail: [tail(files.log), '--- serial console ---', tail(files.serial)].join('\n'),
  })
}

/**
 * Boots a lab guest in a node's namespace on the node's tap and waits for its ready marker. Tries KVM
 * when the probe allows it and falls back to TCG if that guest does not come up (nested KVM can
 * pass the probe and still fail later); the handle records which one ran.
 */
export async function bootGuest(options: GuestBootOptions): Promise<GuestHandle> {
  const name = options.name ?? 'guest'
  if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(name)) throw new MigLabError('bad_guest_name', `Guest name "${name}" must be 1–20 lowercase letters, digits or dashes.`)
  const memoryMiB = options.memoryMiB ?? 256
  if (options.workload?.dirty && options.workload.dirty.sizeMiB > memoryMiB - 64) {
    throw new MigLabError('bad_guest_knob', `A ${options.workload.dirty.sizeMiB} MiB dirty buffer does not fit a ${memoryMiB} MiB guest (keep 64 MiB for the kernel).`)
  }
  const sharedRam = options.sharedRam ?? false
  const files = guestFiles(options.paths, options.plan, name, sharedRam)
  if (Buffer.byteLength(files.qmp) > 107) {
    throw new MigLabError('path_too_long', `The QMP socket path is too long for a Unix socket: ${files.qmp}.`, { hint: 'Use a shorter MigLab data dir (MIGLAB_DATA_DIR).' })
  }
  mkdirSync(options.paths.guestsDir, { recursive: true })
  const node = options.node ?? options.plan.nodes[0]
  const spec = {
    plan: options.plan,
    node,
    name,
    memoryMiB,
    image: options.image,
    files,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    append: guestCmdline({ ip: `${options.plan.guestIp}/${options.plan.prefixLength}`, ...options.workload }),
  }
  const probe = options.accel ?? (await probeKvm())
  let accel = probe.accel
  let accelReason = probe.reason
  let booted: { pid: number; bootMs: number }
  try {
    booted = await launch({ ...spec, accel })
  } catch (err) {
    if (accel !== 'kvm') throw err
    accel = 'tcg'
    accelReason = `KVM guest failed: ${err instanceof Error ? err.message : String(err)}`
    booted = await launch({ ...spec, accel })
  }
  return {
    name,
    node: node.name,
    pid: booted.pid,
    accel,
    ...(accelReason ? { accelReason } : {}),
    files,
    ip: options.plan.guestIp,
    mac: options.plan.guestMac,
    bootMs: booted.bootMs,
  }
}
