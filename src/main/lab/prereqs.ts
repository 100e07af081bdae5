import { existsSync, openSync, readSync, closeSync } from 'node:fs'
import { MigLabError } from '../../shared/errors'
import { which } from '../system/which'

const APT = 'apt-get install --no-install-recommends'

/** Each command the demo lab runs, and the Debian package that provides it. */
const TOOLS = {
  ip: 'iproute2',
  unshare: 'util-linux',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  'qemu-system-x86_64': 'qemu-system-x86',
  busybox: 'busybox-static',
  cpio: 'cpio',
  gzip: 'gzip',
  gcc: 'gcc',
  'apt-get': 'apt',
  dpkg: 'dpkg',
  sha256sum: 'coreutils',
} as const

export type Tool = keyof typeof TOOLS
export type Tools = Record<Tool, string>

/** `gcc -static` needs the static C library, which gcc alone does not pull in. */
const LIBC_A = ['/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib/libc.a']

/** A static ELF has no PT_INTERP program header; the guest has no dynamic loader to offer. */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(64)
    readSync(fd, head, 0, 64, 0)
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false
    const phoff = Number(head.readBigUInt64LE(0x20))
    const phentsize = head.readUInt16LE(0x36)
    const phnum = head.readUInt16LE(0x38)
    const table = Buffer.alloc(phentsize * phnum)
    readSync(fd, table, 0, table.length, phoff)
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3) return false
    return true
  } finally {
    closeSync(fd)
  }
}

/** Namespaces exist only on Linux and only root may make them. */
export function checkHost(): void {
  if (process.platform !== 'linux') {
    throw new MigLabError('demo_lab_not_linux', `The demo lab needs Linux network namespaces; this is ${process.platform}.`, {
      hint: 'Run the demo lab on a Linux machine (a VM is fine), or add real lab nodes over SSH.',
    })
  }
  if (process.getuid?.() !== 0) {
    throw new MigLabError('demo_lab_not_root', 'The demo lab creates network namespaces and starts sshd: it needs root.', {
      hint: 'Run MigLab as root for the demo lab, e.g. `sudo npx miglab lab up --demo`.',
    })
  }
}

/** Checks everything the demo lab needs on this host; throws one error naming the exact fix. */
export function checkPrerequisites(): Tools {
  checkHost()
  const found: Partial<Tools> = {}
  const missing = new Set<string>()
  for (const [command, pkg] of Object.entries(TOOLS) as [Tool, string][]) {
    const path = which(command)
    if (path) found[command] = path
    else missing.add(pkg)
  }
  if (found.busybox && !isStaticElf(found.busybox)) missing.add('busybox-static')
  if (!LIBC_A.some((p) => existsSync(p))) missing.add('libc6-dev')
  if (missing.size > 0) {
    const packages = [...missing].sort().join(' ')
    throw new MigLabError('demo_lab_missing_packages', `The demo lab needs packages that are not installed: ${packages}.`, {
      hint: `${APT} ${packages}`,
      missing: [...missing],
    })
  }
  if (!existsSync('/dev/net/tun')) {
    throw new MigLabError('demo_lab_no_tun', 'The guest NIC needs /dev/net/tun, which this host lacks.', { hint: 'modprobe tun' })
  }
  return found as Tools
}
