import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { run, type RunOptions, type RunResult } from './exec'
import { guestResourcesDir } from './resources'

/** Bump when the build steps change in a way the inputs do not show. */
const BUILDER_VERSION = 2
const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64'
/** In load order: this kernel has no modules.dep, and virtio before virtio_ring fails. */
export const GUEST_MODULES = [
  ['virtio_ring', 'drivers/virtio'],
  ['virtio', 'drivers/virtio'],
  ['virtio_pci_legacy_dev', 'drivers/virtio'],
  ['virtio_pci_modern_dev', 'drivers/virtio'],
  ['virtio_pci', 'drivers/virtio'],
  ['failover', 'net/core'],
  ['net_failover', 'drivers/net'],
  ['virtio_net', 'drivers/net'],
] as const
export const GUEST_SOURCES = ['init', 'dirty.c', 'udp-echo.c'] as const

export interface KernelPackage {
  name: string
  version: string
  /** e.g. 6.1.0-56-cloud-amd64: names vmlinuz and the modules folder inside the package. */
  release: string
  /** The file `apt-get download` writes. */
  debFile: string
}

/** Everything the image is made from; its hash is the cache key. */
export interface GuestInputs {
  kernel: KernelPackage
  busybox: string
  busyboxSha256: string
  gccVersion: string
  sources: Record<(typeof GUEST_SOURCES)[number], string>
}

/** One build step, as data, so the same list can run here or over SSH on a real node. */
export type BuildStep =
  | { kind: 'run'; label: string; argv: string[]; cwd?: string; stdinFile?: string; stdoutFile?: string; creates?: string }
  | { kind: 'write'; label: string; path: string; content: string; mode?: number }

/** Where steps run: this host, or (later) a node over SSH. */
export interface StepRunner {
  run(argv: string[], options?: RunOptions): Promise<RunResult>
  write(path: string, content: string, mode?: number): Promise<void>
  exists(path: string): Promise<boolean>
}

export const localRunner: StepRunner = {
  run: (argv, options) => run(argv, options),
  write: async (path, content, mode) => {
    writeFileSync(path, content)
    if (mode !== undefined) chmodSync(path, mode)
  },
  exists: async (path) => existsSync(path),
}

export interface GuestImage {
  key: string
  kernel: string
  initrd: string
  kernelPackage: string
}

/** The candidate cloud kernel, read from the meta package's exact-version dependency (one apt-cache call). */
export function parseKernelPackage(aptCacheShow: string): KernelPackage | undefined {
  const m = /^Depends:.*?\b(linux-image-(\d[^\s,]*-cloud-amd64))\s*\(=\s*([^)\s]+)\)/m.exec(aptCacheShow)
  if (!m) return undefined
  const [, name, release, version] = m
  // apt-get download names the file name_version_arch.deb, with an epoch's ':' written as %3a.
  return { name, release, version, debFile: `${name}_${version.replace(/:/g, '%3a')}_amd64.deb` }
}

export async function resolveGuestInputs(runner: StepRunner, sources = readGuestSources()): Promise<GuestInputs> {
  const show = await runner.run(['apt-cache', 'show', '--no-all-versions', KERNEL_META_PACKAGE], { allowFailure: true })
  const kernel = show.code === 0 ? parseKernelPackage(show.stdout) : undefined
  if (!kernel) {
    throw new MigLabError('guest_kernel_unknown', `apt does not know ${KERNEL_META_PACKAGE}, so the guest kernel cannot be chosen.`, {
      command: `apt-cache show --no-all-versions ${KERNEL_META_PACKAGE}`,
      stderrTail: show.stderr.trim().split('\n').slice(-5).join('\n'),
      hint: 'apt-get update',
    })
  }
  const busybox = (await runner.run(['sh', '-c', 'command -v busybox'])).stdout.trim()
  const sha = (await runner.run(['sha256sum', busybox])).stdout.split(/\s/)[0]
  const gcc = (await runner.run(['gcc', '-dumpfullversion'])).stdout.trim()
  return { kernel, busybox, busyboxSha256: sha, gccVersion: gcc, sources }
}

export function readGuestSources(dir = guestResourcesDir()): GuestInputs['sources'] {
  return Object.fromEntries(GUEST_SOURCES.map((f) => [f, readFileSync(join(dir, f), 'utf8')])) as GuestInputs['sources']
}

/** Stable across runs: any change in kernel, busybox, compiler, sources or builder gives a new key. */
export function guestCacheKey(inputs: GuestInputs): string {
  const { kernel, busyboxSha256, gccVersion, sources } = inputs
  const canonical = JSON.stringify({ v: BUILDER_VERSION, kernel: [kernel.name, kernel.version], busyboxSha256, gccVersion, sources: GUEST_SOURCES.map((f) => [f, sources[f]]) })
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

export const imageDir = (cacheDir: string, key: string): string => join(cacheDir, `guest-${key}`)

/** What goes into a guest initramfs: busybox, init, the NIC modules (in load order), the static workloads. */
export interface InitramfsParts {
  /** Scratch folder: sources, file list and the uncompressed archive. */
  work: string
  /** The gzip'd initramfs to write. */
  out: string
  /** Module name and the .ko to copy, dependencies first (the guest has no modules.dep). */
  modules: readonly (readonly [string, string])[]
  busybox: string
  sources: GuestInputs['sources']
}

/** The initramfs build shared by the QEMU guest (virtio) and the Xen domU (xen-netfront). */
export function initramfsSteps(parts: InitramfsParts): BuildStep[] {
  const { work, out, modules, busybox, sources } = parts
  const rootfs = join(work, 'root')
  const dirs = ['bin', 'dev', 'proc', 'sys', 'tmp', 'lib', 'lib/modules']
  const files = ['bin/busybox', 'bin/dirty', 'bin/udp-echo', 'dev/console', 'init', 'lib/modules/load-order', ...modules.map(([m]) => `lib/modules/${m}.ko`)]
  const compile = (name: 'dirty' | 'udp-echo'): BuildStep => ({
    kind: 'run',
    label: `compile ${name}`,
    argv: ['gcc', '-static', '-O2', '-s', '-o', join(rootfs, 'bin', name), join(work, `${name}.c`)],
  })
  return [
    { kind: 'run', label: 'prepare the initramfs folders', argv: ['mkdir', '-p', ...dirs.map((d) => join(rootfs, d))] },
    { kind: 'run', label: 'copy NIC modules', argv: ['cp', ...modules.map(([, ko]) => ko), join(rootfs, 'lib', 'modules')] },
    { kind: 'run', label: 'copy busybox', argv: ['cp', busybox, join(rootfs, 'bin', 'busybox')] },
    { kind: 'write', label: 'write init', path: join(rootfs, 'init'), content: sources.init, mode: 0o755 },
    { kind: 'write', label: 'module load order', path: join(rootfs, 'lib', 'modules', 'load-order'), content: modules.map(([m]) => m).join('\n') + '\n' },
    { kind: 'write', label: 'write dirty.c', path: join(work, 'dirty.c'), content: sources['dirty.c'] },
    { kind: 'write', label: 'write udp-echo.c', path: join(work, 'udp-echo.c'), content: sources['udp-echo.c'] },
    compile('dirty'),
    compile('udp-echo'),
    // The kernel opens /dev/console before init runs (devtmpfs is not mounted yet).
    { kind: 'run', label: 'console device', argv: ['mknod', '-m', '600', join(rootfs, 'dev', 'console'), 'c', '5', '1'], creates: join(rootfs, 'dev', 'console') },
    { kind: 'write', label: 'file list', path: join(work, 'files.list'), content: ['.', ...dirs, ...files].join('\n') + '\n' },
    {
      kind: 'run',
      label: 'pack the initramfs',
      argv: ['cpio', '--quiet', '-o', '-H', 'newc', '-R', '0:0'],
      cwd: rootfs,
      stdinFile: join(work, 'files.list'),
      stdoutFile: join(work, 'initramfs.cpio'),
    },
    { kind: 'run', label: 'compress the initramfs', argv: ['gzip', '-n', '-9', '-c', join(work, 'initramfs.cpio')], stdoutFile: out },
  ]
}

/** The build as a list of steps: kernel from its Debian package, busybox initramfs, static workloads. */
export function guestBuildSteps(inputs: GuestInputs, cacheDir: string): BuildStep[] {
  const key = guestCacheKey(inputs)
  const debs = join(cacheDir, 'debs')
  const deb = join(debs, inputs.kernel.debFile)
  const work = join(cacheDir, `build-${key}`)
  const out = imageDir(cacheDir, key)
  const kernelTree = join(work, 'kernel')
  const modulesDir = join(kernelTree, 'lib', 'modules', inputs.kernel.release, 'kernel')
  return [
    { kind: 'run', label: 'prepare folders', argv: ['mkdir', '-p', debs, out, kernelTree] },
    {
      kind: 'run',
      label: `download ${inputs.kernel.name}`,
      // apt's sandbox user cannot write to a root-owned cache folder; the download is verified by apt all the same.
      argv: ['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root', `${inputs.kernel.name}=${inputs.kernel.version}`],
      cwd: debs,
      creates: deb,
    },
    { kind: 'run', label: 'unpack the kernel package', argv: ['dpkg', '-x', deb, kernelTree] },
    { kind: 'run', label: 'copy vmlinuz', argv: ['cp', join(kernelTree, 'boot', `vmlinuz-${inputs.kernel.release}`), join(out, 'vmlinuz')] },
    ...initramfsSteps({
      work,
      out: join(out, 'initramfs.gz'),
      modules: GUEST_MODULES.map(([m, dir]) => [m, join(modulesDir, dir, `${m}.ko`)] as const),
      busybox: inputs.busybox,
      sources: inputs.sources,
    }),
    // Written last: its presence is what marks the cache entry complete.
    { kind: 'write', label: 'manifest', path: join(out, 'manifest.json'), content: JSON.stringify({ key, kernel: inputs.kernel, gcc: inputs.gccVersion }, null, 2) },
    { kind: 'run', label: 'clean up', argv: ['rm', '-rf', work] },
  ]
}

/** Runs the steps in order; `onStep` hears each label and the fraction done before it. */
export async function runSteps(steps: BuildStep[], runner: StepRunner, onStep: (label: string, fraction: number) => void, signal?: AbortSignal): Promise<void> {
  for (const [i, step] of steps.entries()) {
    onStep(step.label, i / steps.length)
    if (step.kind === 'write') await runner.write(step.path, step.content, step.mode)
    else if (!step.creates || !(await runner.exists(step.creates))) {
      await runner.run(step.argv, { cwd: step.cwd, stdinFile: step.stdinFile, stdoutFile: step.stdoutFile, timeoutMs: 300_000, ...(signal ? { signal } : {}) })
    }
  }
}

/** The guest image for the current inputs: from the cache, or built on this host (older images and debs are dropped). */
export async function ensureGuestImage(cacheDir: string, onStep: (label: string, fraction: number) => void): Promise<GuestImage & { built: boolean }> {
  onStep('resolve the guest kernel', 0)
  const inputs = await resolveGuestInputs(localRunner)
  const key = guestCacheKey(inputs)
  const out = imageDir(cacheDir, key)
  const image = { key, kernel: join(out, 'vmlinuz'), initrd: join(out, 'initramfs.gz'), kernelPackage: `${inputs.kernel.name} ${inputs.kernel.version}` }
  if (existsSync(join(out, 'manifest.json'))) return { ...image, built: false }
  mkdirSync(cacheDir, { recursive: true })
  await runSteps(guestBuildSteps(inputs, cacheDir), localRunner, onStep)
  for (const entry of readdirSync(cacheDir)) {
    if (/^(guest|build)-/.test(entry) && entry !== basename(out)) rmSync(join(cacheDir, entry), { recursive: true, force: true })
  }
  for (const entry of readdirSync(join(cacheDir, 'debs'))) {
    if (entry !== inputs.kernel.debFile) rmSync(join(cacheDir, 'debs', entry), { force: true })
  }
  return { ...image, built: true }
}
