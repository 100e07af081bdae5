import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { MigLabError } from '../../../shared/errors'
import { run } from '../exec'
import { initramfsSteps, localRunner, readGuestSources, runSteps, type BuildStep, type GuestInputs } from '../guest-image'
import { xenResourcesDir } from '../resources'
import { debianMirror, readAptSources } from './apt-mirror'

/** Bump when the build steps change in a way the inputs do not show. */
const BUILDER_VERSION = 2
export const DOM0_SUITE = 'bookworm'
export const XEN_VERSION = '4.17'
/**
 * What dom0 needs: Xen and its xl toolstack, a kernel, sshd for MigLab and for `xl migrate` between
 * dom0s; kernel NFS server and client (rpcbind with them) because the lab's hosts reach no package
 * mirror, so the NFS wizard finds them installed instead of installing them.
 */
export const DOM0_PACKAGES = [
  'linux-image-amd64',
  'initramfs-tools',
  `xen-utils-${XEN_VERSION}`,
  `xen-hypervisor-${XEN_VERSION}-amd64`,
  'xen-utils-common',
  'openssh-server',
  'openssh-client',
  'iproute2',
  'bridge-utils',
  'busybox',
  'kmod',
  'procps',
  'netbase',
  'ifupdown',
  'nfs-kernel-server',
  'nfs-common',
  'rpcbind',
] as const
export const DOM0_SCRIPTS = ['sysinit', 'xeninit', 'inittab', 'xl.conf', 'sshd.conf'] as const
/** Where each script goes inside dom0, with its mode. */
const PLACES: Record<(typeof DOM0_SCRIPTS)[number], [string, number]> = {
  sysinit: ['etc/miglab/sysinit', 0o755],
  xeninit: ['xeninit', 0o755],
  inittab: ['etc/inittab', 0o644],
  'xl.conf': ['etc/xen/xl.conf', 0o644],
  'sshd.conf': ['etc/ssh/sshd_config.d/miglab.conf', 0o644],
}
/** A small initrd: only what mounting the root disk needs (MODULES=most makes it ~10× larger and slower to boot). */
const INITRD_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4']
const DISK_SIZE = '1600M'
/** The domU's kernel and initramfs, inside dom0 (xl reads them from dom0's own file system). */
export const DOMU_DIR = '/var/lib/miglab/guest'
export const DOMU_KERNEL = `${DOMU_DIR}/vmlinuz`
export const DOMU_INITRD = `${DOMU_DIR}/initramfs.gz`

/** Everything the image is made from; its hash is the cache key. */
export interface Dom0Inputs {
  mirror: string
  suite: string
  packages: readonly string[]
  scripts: Record<(typeof DOM0_SCRIPTS)[number], string>
  guestSources: GuestInputs['sources']
  busyboxSha256: string
  gccVersion: string
}

export interface Dom0Image {
  key: string
  /** Xen itself (an ELF multiboot image QEMU boots with -kernel), dom0's kernel and initrd, the root disk. */
  xen: string
  kernel: string
  initrd: string
  disk: string
  kernelRelease: string
}

export function readDom0Scripts(dir = xenResourcesDir()): Dom0Inputs['scripts'] {
  return Object.fromEntries(DOM0_SCRIPTS.map((f) => [f, readFileSync(join(dir, f), 'utf8')])) as Dom0Inputs['scripts']
}

export async function resolveDom0Inputs(): Promise<Dom0Inputs & { busybox: string }> {
  const busybox = (await run(['sh', '-c', 'command -v busybox'])).stdout.trim()
  return {
    mirror: debianMirror(readAptSources(), DOM0_SUITE),
    suite: DOM0_SUITE,
    packages: DOM0_PACKAGES,
    scripts: readDom0Scripts(),
    guestSources: readGuestSources(),
    busybox,
    busyboxSha256: (await run(['sha256sum', busybox])).stdout.split(/\s/)[0],
    gccVersion: (await run(['gcc', '-dumpfullversion'])).stdout.trim(),
  }
}

/** Any change in mirror, suite, packages, scripts, guest sources, busybox, compiler or builder gives a new key. */
export function dom0CacheKey(i: Dom0Inputs): string {
  const canonical = JSON.stringify({
    v: BUILDER_VERSION,
    mirror: i.mirror,
    suite: i.suite,
    packages: [...i.packages],
    scripts: DOM0_SCRIPTS.map((f) => [f, i.scripts[f]]),
    guest: Object.keys(i.guestSources).sort().map((f) => [f, i.guestSources[f as keyof Dom0Inputs['guestSources']]]),
    busybox: i.busyboxSha256,
    gcc: i.gccVersion,
  })
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

export const dom0Dir = (cacheDir: string, key: string): string => join(cacheDir, `xen-dom0-${key}`)

const imageOf = (out: string, key: string, kernelRelease: string): Dom0Image => ({
  key,
  xen: join(out, 'xen'),
  kernel: join(out, 'vmlinuz'),
  initrd: join(out, 'initrd.img'),
  disk: join(out, 'dom0.img'),
  kernelRelease,
})

/** The debootstrap result depends on these alone: a change of MigLab's scripts reuses it. */
export function baseCacheKey(i: Dom0Inputs): string {
  return createHash('sha256').update(JSON.stringify({ v: BUILDER_VERSION, mirror: i.mirror, suite: i.suite, packages: [...i.packages] })).digest('hex').slice(0, 16)
}

// debootstrap OPTIONS… SUITE TARGET MIRROR, then the archive (written whole or not at all).
const BOOTSTRAP = 'archive=$1; shift; debootstrap "$@" && tar -C "$5" -cf "$archive.part" . && mv "$archive.part" "$archive"'

export const baseArchive = (cacheDir: string, i: Dom0Inputs): string => join(cacheDir, `xen-base-${baseCacheKey(i)}.tar`)

/**
 * debootstrap of Debian with Xen (~75–95 s with the package cache warm, longer cold), kept as an
 * archive so a change of MigLab's own scripts rebuilds from it in seconds.
 */
export function bootstrapSteps(i: Dom0Inputs, rootfs: string, cacheDir: string): BuildStep[] {
  const debs = join(cacheDir, 'xen-debs')
  const archive = baseArchive(cacheDir, i)
  return [
    { kind: 'run', label: 'prepare folders', argv: ['mkdir', '-p', debs, rootfs] },
    {
      kind: 'run',
      label: `debootstrap Debian ${i.suite} with Xen ${XEN_VERSION} from ${i.mirror}`,
      argv: ['sh', '-c', BOOTSTRAP, 'sh', archive, '--variant=minbase', `--cache-dir=${debs}`, `--include=${i.packages.join(',')}`, i.suite, rootfs, i.mirror],
      creates: archive,
    },
    // Skipped when debootstrap just filled the folder.
    { kind: 'run', label: 'unpack the Debian base', argv: ['tar', '-C', rootfs, '--numeric-owner', '-xpf', archive], creates: join(rootfs, 'etc', 'debian_version') },
  ]
}

/** MigLab's startup, the small initrd, no shared host keys (each host gets its own from the seed disk). */
export function configureSteps(i: Dom0Inputs, rootfs: string): BuildStep[] {
  return [
    { kind: 'run', label: 'folders for MigLab files', argv: ['mkdir', '-p', join(rootfs, 'etc/miglab'), join(rootfs, 'etc/ssh/sshd_config.d'), join(rootfs, DOMU_DIR.slice(1)), join(rootfs, 'root/.ssh')] },
    ...DOM0_SCRIPTS.map((f): BuildStep => ({ kind: 'write', label: `write ${PLACES[f][0]}`, path: join(rootfs, PLACES[f][0]), content: i.scripts[f], mode: PLACES[f][1] })),
    { kind: 'write', label: 'initrd modules', path: join(rootfs, 'etc/initramfs-tools/modules'), content: INITRD_MODULES.join('\n') + '\n' },
    { kind: 'write', label: 'initrd: listed modules only', path: join(rootfs, 'etc/initramfs-tools/conf.d/miglab'), content: 'MODULES=list\n' },
    { kind: 'write', label: 'empty fstab', path: join(rootfs, 'etc/fstab'), content: '# MigLab dom0: /etc/miglab/sysinit mounts everything\n' },
    { kind: 'run', label: 'remove the shared host keys', argv: ['find', join(rootfs, 'etc/ssh'), '-maxdepth', '1', '-name', 'ssh_host_*', '-delete'] },
    { kind: 'run', label: 'rebuild the small initrd', argv: ['chroot', rootfs, 'update-initramfs', '-u', '-k', 'all'] },
  ]
}

/** The domU (PV guest): dom0's own kernel and a busybox initramfs with xen-netfront, xen-blkfront (a disk when the run has one) and the workloads. */
export function domUSteps(i: Dom0Inputs & { busybox: string }, rootfs: string, work: string, release: string): BuildStep[] {
  return [
    { kind: 'run', label: 'domU kernel', argv: ['cp', join(rootfs, 'boot', `vmlinuz-${release}`), join(rootfs, DOMU_KERNEL.slice(1))] },
    ...initramfsSteps({
      work,
      out: join(rootfs, DOMU_INITRD.slice(1)),
      modules: [
        ['xen-netfront', join(rootfs, 'lib/modules', release, 'kernel/drivers/net/xen-netfront.ko')],
        ['xen-blkfront', join(rootfs, 'lib/modules', release, 'kernel/drivers/block/xen-blkfront.ko')],
      ],
      busybox: i.busybox,
      sources: i.guestSources,
    }),
  ]
}

/** Boot artefacts out of the root file system, then the root disk itself (mkfs.ext4 -d: no loop mount). */
export function packSteps(rootfs: string, out: string, release: string, key: string): BuildStep[] {
  return [
    { kind: 'run', label: 'Xen hypervisor image', argv: ['zcat', join(rootfs, 'boot', `xen-${XEN_VERSION}-amd64.gz`)], stdoutFile: join(out, 'xen') },
    { kind: 'run', label: 'dom0 kernel', argv: ['cp', join(rootfs, 'boot', `vmlinuz-${release}`), join(out, 'vmlinuz')] },
    { kind: 'run', label: 'dom0 initrd', argv: ['cp', join(rootfs, 'boot', `initrd.img-${release}`), join(out, 'initrd.img')] },
    { kind: 'run', label: 'root disk (mkfs.ext4 -d)', argv: ['mkfs.ext4', '-q', '-F', '-L', 'dom0', '-d', rootfs, join(out, 'dom0.img'), DISK_SIZE] },
    // Written last: its presence is what marks the cache entry complete.
    { kind: 'write', label: 'manifest', path: join(out, 'manifest.json'), content: JSON.stringify({ key, kernelRelease: release }, null, 2) },
  ]
}

/** The one kernel debootstrap installed (linux-image-amd64 pulls exactly one). */
function kernelRelease(rootfs: string): string {
  const releases = readdirSync(join(rootfs, 'lib/modules'))
  if (releases.length !== 1) throw new MigLabError('xen_lab_image_failed', `Expected one kernel in the dom0 image, found ${releases.length}: ${releases.join(', ')}.`)
  return releases[0]
}

/**
 * The dom0 image for the current inputs: from the cache, or built on this host (~95 s). Older images
 * are dropped; the package cache stays, so a rebuild after a script change downloads nothing.
 */
export async function ensureDom0Image(cacheDir: string, onStep: (label: string, fraction: number) => void, job?: { checkCancelled(): void; signal?: AbortSignal }): Promise<Dom0Image & { built: boolean }> {
  onStep('resolve the inputs (mirror, scripts)', 0)
  const inputs = await resolveDom0Inputs()
  const key = dom0CacheKey(inputs)
  const out = dom0Dir(cacheDir, key)
  const manifest = join(out, 'manifest.json')
  if (existsSync(manifest)) return { ...imageOf(out, key, (JSON.parse(readFileSync(manifest, 'utf8')) as { kernelRelease: string }).kernelRelease), built: false }
  const work = join(cacheDir, `xen-build-${key}`)
  const rootfs = join(work, 'rootfs')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const stage = (lo: number, hi: number) => (label: string, f: number) => {
    job?.checkCancelled()
    onStep(label, lo + (hi - lo) * f)
  }
  try {
    await runSteps(bootstrapSteps(inputs, rootfs, cacheDir), localRunner, stage(0.02, 0.75), job?.signal)
    const release = kernelRelease(rootfs)
    await runSteps(configureSteps(inputs, rootfs), localRunner, stage(0.75, 0.85), job?.signal)
    await runSteps(domUSteps(inputs, rootfs, join(work, 'domu'), release), localRunner, stage(0.85, 0.9), job?.signal)
    await runSteps(packSteps(rootfs, out, release, key), localRunner, stage(0.9, 1), job?.signal)
    for (const entry of readdirSync(cacheDir)) {
      const kept = [basename(out), basename(baseArchive(cacheDir, inputs))]
      if (/^xen-(dom0|build|base)-/.test(entry) && !kept.includes(entry)) rmSync(join(cacheDir, entry), { recursive: true, force: true })
    }
    return { ...imageOf(out, key, release), built: true }
  } catch (err) {
    rmSync(out, { recursive: true, force: true })
    throw err
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
