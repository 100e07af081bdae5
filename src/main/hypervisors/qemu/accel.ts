import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

export type Accel = 'kvm' | 'tcg'

export interface AccelProbe {
  accel: Accel
  /** Why KVM was not chosen, when it was not. */
  reason?: string
}

/**
 * KVM is judged by trying it, not by /dev/kvm existing: nested KVM can open the device and still
 * abort QEMU at vCPU setup. Starts a paused VM with KVM and asks it to quit over QMP.
 */
export async function probeKvm(qemu = 'qemu-system-x86_64', timeoutMs = 10_000): Promise<AccelProbe> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not writable' }
  }
  return new Promise((resolve) => {
    const child = spawn(
      qemu,
      ['-accel', 'kvm', '-cpu', 'host', '-machine', 'pc', '-m', '32', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-qmp', 'stdio'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      resolve({ accel: 'tcg', reason: `cannot run ${qemu}: ${err.message}` })
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve({ accel: 'kvm' })
      else resolve({ accel: 'tcg', reason: (stderr.trim().split('\n').pop() || `QEMU exited (${signal ?? code})`).slice(0, 300) })
    })
    child.stdin.end('{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
  })
}
