import { MigLabError } from '../../../shared/errors'
import { XL_DIR } from '../../remote/xl'
import type { VmSpec } from '../driver'

/** The bridge every MigLab dom0 puts its NIC and the guests' vifs on. */
export const XL_BRIDGE = 'xenbr0'

// xl's config language has its own quoting; MigLab only writes values that need none.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const VALUE = /^[^"\\\n\r]*$/
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

/** A domain name xl and MigLab's files accept as it is (no quoting anywhere). */
export function checkDomainName(name: string): string {
  if (!NAME.test(name) || /--(incoming|migratedaway)$/.test(name)) {
    throw new MigLabError('invalid_vm_name', `"${name}" cannot name a Xen domain here: use letters, digits, '.', '_' and '-' (not ending in --incoming or --migratedaway), at most 64.`, {
      hint: 'Rename the VM.',
    })
  }
  return name
}

const str = (what: string, v: string): string => {
  if (!VALUE.test(v)) throw new MigLabError('invalid_argument', `The ${what} of a Xen domain cannot hold quotes, backslashes or line breaks: ${JSON.stringify(v)}.`)
  return `"${v}"`
}

/** The guest's disk in the shared folder: one name on every node, so `xl migrate` reopens the same file. */
export const diskPath = (dir: string, vm: string): string => `${dir.replace(/\/+$/, '')}/miglab-disks/${checkDomainName(vm)}.img`
/** The size MigLab creates a guest disk with (sparse: only what the guest writes takes space). */
export const DISK_MIB = 64
// A disk target is the last key of xl's disk spec and sits in a single-quoted string: plain paths only.
const DISK_TARGET = /^\/[A-Za-z0-9_.\/-]+$/

export const configPath = (vm: string): string => `${XL_DIR}/${checkDomainName(vm)}.cfg`
export const specPath = (vm: string): string => `${XL_DIR}/${checkDomainName(vm)}.json`

/**
 * The xl config of a PV guest booted from MigLab's kernel and initramfs. `cpus = "1"` keeps the
 * guest's vCPU off dom0's pinned pCPU 0: sharing one under TCG corrupted data dom0 received
 * (XEN-LAB-RECIPE.md); the setting travels with `xl migrate`.
 */
export function domainConfig(spec: VmSpec, bridge = XL_BRIDGE): string {
  if (!spec.kernel || !spec.initrd) throw new MigLabError('vm_definition_incomplete', `VM "${spec.name}" has no kernel or initramfs to boot as a Xen PV guest.`)
  if (spec.memoryMiB < 128) {
    throw new MigLabError('vm_memory_too_small', `A Xen PV guest needs at least 128 MiB (got ${spec.memoryMiB}): with 64 MiB xl fails with "segment kernel too large".`, { hint: 'Give the VM 128 MiB or more.' })
  }
  if (spec.sharedMemoryPath) throw new MigLabError('strategy_unsupported', 'A Xen domain cannot keep its RAM in a shared file (that is the QEMU dsm strategy).')
  const lines = [
    `# Written by MigLab for VM ${spec.name}.`,
    `name = ${str('name', checkDomainName(spec.name))}`,
    'type = "pv"',
    `kernel = ${str('kernel', spec.kernel)}`,
    `ramdisk = ${str('initramfs', spec.initrd)}`,
    `extra = ${str('kernel command line', spec.append ?? '')}`,
    `memory = ${Math.floor(spec.memoryMiB)}`,
    'vcpus = 1',
    'cpus = "1"',
    'on_crash = "destroy"',
  ]
  if (spec.disk) {
    if (!DISK_TARGET.test(spec.disk)) throw new MigLabError('invalid_argument', `A Xen guest disk path may hold letters, digits, '.', '_', '-' and '/' only: ${JSON.stringify(spec.disk)}.`)
    // No backend named: libxl picks \`phy\`, whose block script attaches the file through a loop
    // device in dom0 (qdisk would need QEMU in dom0, which the lab's image does not have).
    lines.push(`disk = [ 'format=raw,vdev=xvda,access=rw,target=${spec.disk}' ]`)
  }
  if (spec.nic) {
    if (!MAC.test(spec.nic.mac)) throw new MigLabError('invalid_argument', `Not a MAC address: ${JSON.stringify(spec.nic.mac)}.`)
    lines.push(`vif = [ 'bridge=${bridge},mac=${spec.nic.mac.toLowerCase()}' ]`)
  }
  return lines.join('\n') + '\n'
}
