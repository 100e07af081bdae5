/**
 * 100 sequential `true` commands over MigLab's SSH pool vs OpenSSH with ControlMaster multiplexing,
 * both against the same throwaway sshd on 127.0.0.1. Prints times and the ratio; no pass/fail.
 * Runs as root, and (when useradd exists) again as a throwaway user whose login shell is /bin/sh:
 * root's ~/.bashrc is sourced for every SSH command and can dwarf the transport being measured.
 * Usage: npx tsx bench/ssh-exec.ts [count]   (needs root and /usr/sbin/sshd)
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cmd } from '../src/main/remote/command'
import { execOk } from '../src/main/ssh/exec'
import { removeSshdDir, sshdUnavailable, startSshd } from '../test/fixtures/sshd'
import { testPool } from '../test/fixtures/ssh-pool'

const count = Number(process.argv[2] ?? 100)
const why = sshdUnavailable()
if (why) {
  console.log(`ssh-exec bench skipped: ${why}`)
  process.exit(0)
}

const sshd = await startSshd()
const t = testPool(sshd)
const ms = (x: number): string => `${x.toFixed(0)} ms (${(x / count).toFixed(1)} ms/command)`

async function bench(user: string): Promise<void> {
  t.targets.set(user, { host: sshd.host, port: sshd.port, user, auth: { kind: 'key', keyPath: sshd.clientKey } })
  const control = join(sshd.dir, `cm-${user}`)
  const sshArgs = [
    '-S', control, '-o', 'ControlMaster=auto', '-o', 'ControlPersist=60', '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-i', sshd.clientKey, '-p', String(sshd.port), `${user}@127.0.0.1`,
  ]
  try {
    // Warm both: connection established, first session done.
    await execOk(t.pool, user, cmd('true'))
    execFileSync('ssh', [...sshArgs, 'true'])

    let start = performance.now()
    for (let i = 0; i < count; i++) await execOk(t.pool, user, cmd('true'))
    const pool = performance.now() - start

    start = performance.now()
    for (let i = 0; i < count; i++) {
      const r = spawnSync('ssh', [...sshArgs, 'true'])
      if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr}`)
    }
    const openssh = performance.now() - start

    console.log(`${count} sequential \`true\` as ${user}:`)
    console.log(`  MigLab pool (ssh2)           ${ms(pool)}`)
    console.log(`  OpenSSH ssh + ControlMaster  ${ms(openssh)}`)
    console.log(`  ratio pool/openssh           ${(pool / openssh).toFixed(2)}x   (goal <= 0.3x)`)
  } finally {
    spawnSync('ssh', ['-S', control, '-O', 'exit', `${user}@127.0.0.1`], { stdio: 'ignore' })
  }
}

const lean = `mlbench${process.pid % 100000}`
try {
  await bench('root')
  if (existsSync('/usr/sbin/useradd')) {
    execFileSync('useradd', ['-M', '-d', '/', '-s', '/bin/sh', lean])
    // OpenSSH refuses locked accounts ('!' in shadow) even for key logins without PAM.
    execFileSync('usermod', ['-p', '*', lean])
    await bench(lean)
  }
} finally {
  await t.pool.close()
  await sshd.stop()
  spawnSync('userdel', ['-f', lean], { stdio: 'ignore' })
  removeSshdDir(sshd)
}
