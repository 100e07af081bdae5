import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { DoctorCheck } from '../../shared/domain'
import { probeKvm } from '../hypervisors/qemu/accel'
import { which } from './which'

const APT = 'apt-get install --no-install-recommends'

/**
 * Where the Electron runtime binary is, if the optional `electron` package could download it.
 * Reads the package's path.txt (as its index.js does) rather than loading the module.
 */
export function electronBinary(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('electron/package.json')
    const binary = join(dirname(pkg), 'dist', readFileSync(join(dirname(pkg), 'path.txt'), 'utf8').trim())
    return existsSync(binary) ? binary : undefined
  } catch {
    return undefined
  }
}

function tool(id: string, label: string, command: string, hint: string): DoctorCheck {
  const found = which(command)
  return found ? { id, label, status: 'ok', found } : { id, label, status: 'missing', found: `${command} not found`, hint }
}

/** What this machine offers MigLab, each with the fix when it is missing. */
export async function runDoctor(): Promise<DoctorCheck[]> {
  const electron = electronBinary()
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const checks: DoctorCheck[] = [
    electron
      ? { id: 'electron', label: 'Electron runtime', status: 'ok', found: electron }
      : {
          id: 'electron',
          label: 'Electron runtime',
          status: 'warn',
          found: 'not installed',
          hint: 'The desktop window needs it (npm downloads it during `npm ci` where GitHub is reachable). Browser mode works without it: `npx miglab serve`.',
        },
    tool('chromium', 'Chromium (end-to-end tests, browser mode)', 'chromium', `${APT} chromium fonts-noto-cjk fonts-noto-color-emoji`),
    process.platform === 'linux'
      ? { id: 'linux', label: 'Linux', status: 'ok', found: process.platform }
      : { id: 'linux', label: 'Linux', status: 'missing', found: process.platform, hint: 'The demo lab needs Linux network namespaces; real labs work from any OS.' },
    isRoot
      ? { id: 'root', label: 'Root (demo lab)', status: 'ok', found: 'uid 0' }
      : { id: 'root', label: 'Root (demo lab)', status: 'warn', found: `uid ${process.getuid?.() ?? '?'}`, hint: 'The demo lab creates network namespaces: run `sudo npx miglab lab up --demo`.' },
  ]
  const qemu = which('qemu-system-x86_64')
  if (!qemu) {
    checks.push({ id: 'qemu', label: 'QEMU', status: 'missing', found: 'qemu-system-x86_64 not found', hint: `${APT} qemu-system-x86` })
    checks.push({ id: 'kvm', label: 'KVM', status: 'warn', found: 'unknown without QEMU', hint: 'Install QEMU first.' })
  } else {
    checks.push({ id: 'qemu', label: 'QEMU', status: 'ok', found: qemu })
    const kvm = await probeKvm(qemu)
    checks.push(
      kvm.accel === 'kvm'
        ? { id: 'kvm', label: 'KVM', status: 'ok', found: 'usable' }
        : { id: 'kvm', label: 'KVM', status: 'warn', found: `TCG only (${kvm.reason})`, hint: 'Guests run under TCG emulation: slower, but migrations still work and are measured.' },
    )
  }
  checks.push(
    tool('sshd', 'OpenSSH server (demo lab nodes)', 'sshd', `${APT} openssh-server`),
    tool('mpirun', 'OpenMPI (DSM cluster)', 'mpirun', `${APT} openmpi-bin libopenmpi-dev`),
    tool('ganesha', 'NFS-Ganesha (shared storage)', 'ganesha.nfsd', `${APT} nfs-ganesha nfs-ganesha-vfs libnfs-utils`),
    tool('tcpdump', 'tcpdump (the switchover on the wire, demo lab)', 'tcpdump', `${APT} tcpdump`),
  )
  return checks
}
