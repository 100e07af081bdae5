import { posix } from 'node:path'
import type { VmSpec } from '../driver'
import { safeId } from '../../util/safe-id'

/** Where one VM's files live on one node. Node names are part of the path: demo-lab nodes share one filesystem. */
export interface VmPaths {
  dir: string
  pidFile: string
  qmpSocket: string
  serialLog: string
  specFile: string
}

/** Where QEMU's runtime files (pid, QMP socket, serial log, definition) live on a node. */
export const DEFAULT_RUN_DIR = '/run/miglab'

export const nodeDir = (runDir: string, node: string): string => posix.join(runDir, safeId(node, 12))

export function vmPaths(runDir: string, node: string, vm: string): VmPaths {
  const dir = posix.join(nodeDir(runDir, node), safeId(vm))
  return {
    dir,
    pidFile: posix.join(dir, 'qemu.pid'),
    qmpSocket: posix.join(dir, 'qmp.sock'),
    serialLog: posix.join(dir, 'serial.log'),
    specFile: posix.join(dir, 'vm.json'),
  }
}

/** QEMU's option syntax splits on commas; a literal comma is written twice. */
export const optValue = (v: string): string => v.replace(/,/g, ',,')

export interface QemuLaunch {
  spec: VmSpec
  node: string
  paths: VmPaths
  accel: 'kvm' | 'tcg'
  /** Destination side: wait for `migrate-incoming` instead of booting. */
  incoming: boolean
}

/**
 * The QEMU arguments (no shell): identical on both nodes except tap, files and `-incoming defer`,
 * as migration requires. Daemonized with a pid file so the VM outlives the SSH session.
 */
export function qemuArgs(l: QemuLaunch): string[] {
  const { spec, paths } = l
  const args = [
    '-name', `guest=${optValue(spec.name)}`,
    ...(l.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=single', '-cpu', 'qemu64']),
    '-m', `${spec.memoryMiB}M`,
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', `file:${optValue(paths.serialLog)}`,
    '-qmp', `unix:${optValue(paths.qmpSocket)},server=on,wait=off`,
    '-daemonize', '-pidfile', paths.pidFile,
  ]
  const ramPath = spec.sharedMemoryPath ?? spec.localMemoryPath
  if (ramPath) {
    // Guest RAM in a file (both nodes map it, or the DSM runtime replicates it): with x-ignore-shared
    // the migration stream skips it entirely.
    args.push(
      '-object', `memory-backend-file,id=mem,size=${spec.memoryMiB}M,mem-path=${optValue(ramPath)},share=on`,
      '-machine', 'memory-backend=mem',
    )
  }
  if (spec.kernel) args.push('-kernel', spec.kernel)
  if (spec.initrd) args.push('-initrd', spec.initrd)
  if (spec.append) args.push('-append', spec.append)
  const tap = spec.nic?.taps[l.node]
  if (spec.nic && tap) {
    args.push(
      '-netdev', `tap,id=n0,ifname=${optValue(tap)},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=n0,mac=${optValue(spec.nic.mac)},romfile=`,
    )
  }
  if (l.incoming) args.push('-incoming', 'defer')
  return args
}
