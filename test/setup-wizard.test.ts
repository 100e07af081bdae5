import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SetupRunReport } from '../src/shared/contract/setup'
import { MigLabError } from '../src/shared/errors'
import type { Core } from '../src/main/core'
import { and, cmd, type RemoteCommand } from '../src/main/remote/command'
import { commandText, runWizard, type NodeExec, type NodeRef, type Progress, type Step, type Wizard } from '../src/main/setup/engine'
import { explainInstall, packagesStep } from '../src/main/setup/packages'
import { parseQmpVersion } from '../src/main/setup/qemu'
import { wizardState } from '../src/main/setup/status'
import type { ExecResult } from '../src/main/ssh/exec'
import { openDb } from '../src/main/store/db'
import { SetupStepsRepo } from '../src/main/store/setup-steps'
import { removeSshdDir, sshdUnavailable, startSshd, type Sshd } from './fixtures/sshd'
import { callerOf, runSetupJob, tempCore } from './helpers'

const node = (id: number, name: string, user = 'root'): NodeRef => ({ id, key: String(id), name, host: `10.0.0.${id}`, port: 22, user })

/** A node that answers each command text from a script of replies, and records what ran. */
function fakeExec(reply: (n: NodeRef, text: string, stdin?: string) => Partial<ExecResult>, privilege: ReturnType<NodeExec['privilege']> = 'root') {
  const ran: { node: string; text: string; sudo: boolean; stdin?: string }[] = []
  const exec: NodeExec = {
    async run(n, c: RemoteCommand, o = {}) {
      ran.push({ node: n.name, text: c.text, sudo: o.sudo === true, ...(o.stdin !== undefined ? { stdin: o.stdin } : {}) })
      return { code: 0, signal: null, stdout: '', stderr: '', ...reply(n, c.text, o.stdin) }
    },
    privilege: () => privilege,
  }
  return { exec, ran }
}

const quietProgress = (): Progress & { lines: string[] } => {
  const lines: string[] = []
  return { lines, progress: () => {}, log: (_l, m) => lines.push(m), checkCancelled: () => {} }
}

/** Fresh in-memory store with every migration applied (including the setup_steps one). */
const memStore = () => {
  const db = openDb(':memory:')
  db.exec("INSERT INTO labs (id, name, kind, created_at) VALUES (1, 'lab', 'real', '2026-01-01')")
  for (const [id, name] of [[1, 'n1'], [2, 'n2']]) {
    db.prepare("INSERT INTO nodes (id, lab_id, name, host, user, auth, created_at) VALUES (?, 1, ?, 'h', 'root', '{}', '2026-01-01')").run(id, name)
  }
  return { db, store: new SetupStepsRepo(db) }
}

// Package database of the fake nodes: what `dpkg-query` would say.
const db0 = new Map<string, Set<string>>()
/** Changes apply to both fake nodes' package databases. */
const installed = {
  add(p: string) { for (const n of ['n1', 'n2']) pkgs(n).add(p); return installed },
  delete(p: string) { for (const n of ['n1', 'n2']) pkgs(n).delete(p) },
}
const pkgs = (n: string): Set<string> => db0.get(n) ?? db0.set(n, new Set()).get(n)!
const aptNode = (n: NodeRef, text: string): Partial<ExecResult> => {
  if (text.includes('command -v apt-get')) return { stdout: 'apt\n' }
  if (text.includes('dpkg-query')) {
    const names = text.split(' ').slice(-2).map((w) => w.replace(/'/g, ''))
    return { stdout: names.map((p) => `${p} ${pkgs(n.name).has(p) ? 'installed' : 'missing'}\n`).join('') }
  }
  if (text.includes('apt-get') && text.includes('install')) {
    for (const p of ['mpi-a', 'mpi-b']) if (text.includes(p)) pkgs(n.name).add(p)
    return {}
  }
  return { code: 1 }
}

describe('setup engine (fake nodes)', () => {
  const pkgWizard: Wizard = { id: 'mpi', title: 'Test', about: '', steps: [packagesStep('packages', 'Packages', { apt: ['mpi-a', 'mpi-b'], dnf: ['x'] })] }
  const nodes = [node(1, 'n1'), node(2, 'n2')]

  it('dry run lists every command apply would run, per node, exactly as it runs; apply runs those; a second run is "already done"', async () => {
    installed.delete('mpi-a')
    installed.delete('mpi-b')
    const { exec, ran } = fakeExec(aptNode)
    const { store } = memStore()
    const dry = await runWizard(pkgWizard, { labId: 1, nodes, dryRun: true }, { exec, store, progress: quietProgress() })
    expect(dry.steps.map((s) => s.outcome)).toEqual(['would_change', 'would_change'])
    const installText = "(export DEBIAN_FRONTEND=noninteractive && { apt-get install -y --no-install-recommends mpi-a mpi-b\n})"
    expect(dry.steps.map((s) => s.commands)).toEqual([[`n1: ${installText}`], [`n2: ${installText}`]])
    expect(ran.some((r) => r.text.includes('apt-get install'))).toBe(false) // dry run changes nothing
    expect(wizardState(pkgWizard, ['n1', 'n2'], store.list(1, 'mpi'))).toBe('partial')

    const applied = await runWizard(pkgWizard, { labId: 1, nodes, dryRun: false }, { exec, store, progress: quietProgress() })
    expect(applied.steps.map((s) => s.outcome)).toEqual(['applied', 'applied'])
    // What ran is what the dry run showed: the same text, per node, as root.
    const installs = ran.filter((r) => r.text.includes('apt-get install'))
    expect(installs.map((r) => `${r.node}: ${r.text}`)).toEqual(dry.steps.flatMap((s) => s.commands))
    expect(installs.every((r) => r.sudo)).toBe(true)
    expect(wizardState(pkgWizard, ['n1', 'n2'], store.list(1, 'mpi'))).toBe('done')

    // Resume / second run: nothing is applied again.
    const before = ran.length
    const again = await runWizard(pkgWizard, { labId: 1, nodes, dryRun: false }, { exec, store, progress: quietProgress() })
    expect(again.steps.map((s) => s.outcome)).toEqual(['already_done', 'already_done'])
    expect(ran.slice(before).some((r) => r.text.includes('apt-get install'))).toBe(false)

    // Someone removed a package: the stored state says drifted until it is set up again.
    installed.delete('mpi-b')
    await runWizard(pkgWizard, { labId: 1, nodes, dryRun: false, checkOnly: true }, { exec, store, progress: quietProgress() })
    expect(wizardState(pkgWizard, ['n1', 'n2'], store.list(1, 'mpi'))).toBe('drifted')
  })

  it('results survive a restart: a new store on the same database file resumes', async () => {
    const { db, store } = memStore()
    installed.add('mpi-a').add('mpi-b')
    const { exec } = fakeExec(aptNode)
    await runWizard(pkgWizard, { labId: 1, nodes, dryRun: false }, { exec, store, progress: quietProgress() })
    const reopened = new SetupStepsRepo(db)
    expect(reopened.list(1, 'mpi').map((s) => [s.node, s.outcome])).toEqual([
      ['n1', 'already_done'],
      ['n2', 'already_done'],
    ])
    const cols = db.prepare('PRAGMA table_info(setup_steps)').all() as { name: string }[]
    expect(cols.map((c) => c.name)).toContain('done_at')
  })

  it('sudo when not root: the dry-run text is the sudo line, the password goes on stdin and is never shown', async () => {
    installed.delete('mpi-a')
    const { exec } = fakeExec(aptNode, 'sudo-password')
    const { store } = memStore()
    const dry = await runWizard(pkgWizard, { labId: 1, nodes: [node(1, 'n1', 'lab')], dryRun: true }, { exec, store, progress: quietProgress() })
    expect(dry.steps[0].commands[0]).toMatch(/^n1: sudo -S -p '' -- sh -c '.*apt-get install -y --no-install-recommends mpi-a/s)
    const p = { node: node(1, 'n1', 'lab'), command: cmd('true'), asRoot: true }
    expect(commandText({ ...exec, privilege: () => 'sudo-nopassword' }, p)).toBe("sudo -n -- sh -c true")
  })

  it('a failed step gives the cause, the stderr tail and the fix, names node and step, and stops the wizard', async () => {
    installed.delete('mpi-a')
    const { exec } = fakeExec((n, text) =>
      text.includes('apt-get install')
        ? { code: 100, stderr: 'Reading package lists...\nErr:1 http://deb.debian.org/debian bookworm InRelease\n  Temporary failure resolving \'deb.debian.org\'\nE: Unable to locate package mpi-a\n' }
        : aptNode(n, text),
    )
    const { store } = memStore()
    const progress = quietProgress()
    const r = await runWizard(pkgWizard, { labId: 1, nodes, dryRun: false }, { exec, store, progress })
    expect(r.ok).toBe(false)
    expect(r.steps.map((s) => s.outcome)).toEqual(['failed', 'not_run'])
    const e = r.steps[0].error!
    expect(e.code).toBe('no_package_mirror')
    expect(e.message).toMatch(/^Packages on node n1: Node n1 cannot reach a package mirror/)
    expect(e.detail?.stderrTail).toContain("Temporary failure resolving 'deb.debian.org'")
    expect(e.detail?.command).toContain('apt-get install')
    expect(e.detail?.hint).toMatch(/Demo-lab nodes share this machine's packages/)
    expect(store.list(1, 'mpi')[0].outcome).toBe('failed')
  })

  it('sudo refusing is its own error with its own fix', () => {
    const err = new MigLabError('remote_failed', 'x', { command: 'sudo -n -- sh -c …', stderrTail: 'sudo: a password is required' })
    expect(explainInstall(err, 'n1', ['p'], 'apt').code).toBe('sudo_refused')
  })

  it('a step that cannot look says "not checkable: …", never "no change"', async () => {
    const { exec } = fakeExec(() => ({ stdout: '' })) // neither apt-get nor dnf
    const { store } = memStore()
    const r = await runWizard(pkgWizard, { labId: 1, nodes: [nodes[0]], dryRun: true }, { exec, store, progress: quietProgress() })
    expect(r.steps[0].outcome).toBe('not_checkable')
    expect(r.steps[0].found).toMatch(/neither apt-get nor dnf/)
    const lab: Step = { id: 'x', title: 'X', scope: 'lab', check: async () => ({ kind: 'change', found: 'f', change: 'a manual thing' }) }
    const manual = await runWizard({ ...pkgWizard, steps: [lab] }, { labId: 1, nodes, dryRun: false }, { exec, store, progress: quietProgress() })
    expect(manual.steps[0]).toMatchObject({ outcome: 'failed', error: { code: 'setup_manual' } })
  })

  it('parses a QMP query-version transcript', () => {
    const out =
      '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}\n{"return": {}}\n' +
      '{"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}}\n'
    expect(parseQmpVersion(out)).toEqual({ greeting: true, version: '7.2.22', package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' })
    expect(parseQmpVersion('qemu: error\n')).toEqual({ greeting: false })
  })
})

const skip = sshdUnavailable()
describe.skipIf(skip !== null)('QEMU wizard over a real sshd (two lab nodes on this machine)', () => {
  let sshd: Sshd
  let t: ReturnType<typeof tempCore>
  let core: Core
  let labId: number
  const call = callerOf(() => core)
  const runJob = (input: unknown): Promise<SetupRunReport> => runSetupJob(core, input)
  beforeAll(async () => {
    sshd = await startSshd()
    t = tempCore()
    core = t.core
    labId = (await call('labs.create', { name: 'wiz' })).id
    for (const name of ['n1', 'n2']) await call('nodes.add', { labId, name, host: '127.0.0.1', port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKey } })
    const first = core.services.labs.get(labId)!.nodes[0]
    await call('nodes.connect', { nodeId: first.id }).catch(() => undefined) // shows MigLab the key: host_key_unknown
    await call('hostKeys.trust', { host: '127.0.0.1', port: sshd.port, fingerprint: sshd.fingerprint() })
  }, 60_000)
  afterAll(async () => {
    await t?.dispose()
    await sshd?.stop()
    if (sshd) removeSshdDir(sshd)
  })

  it('dry run, apply (verify green), second run "already done"; the page state is done', async () => {
    expect((await call('setup.list', { labId })).find((w) => w.id === 'qemu')?.state).toBe('not_started')
    const dry = await runJob({ labId, wizard: 'qemu', dryRun: true })
    console.log(dry.steps.map((s) => `${s.node ?? 'lab'} ${s.step}: ${s.outcome} — ${s.found}`).join('\n'))
    expect(dry.steps.map((s) => `${s.step}@${s.node ?? 'lab'}`)).toEqual(['packages@n1', 'packages@n2', 'accel@n1', 'accel@n2', 'qmp@n1', 'qmp@n2', 'migration-port@lab'])
    // This machine has QEMU (the demo lab needs it): nothing to install, so the dry run lists no commands.
    expect(dry.steps.every((s) => s.outcome === 'already_done')).toBe(true)
    expect(dry.steps.find((s) => s.step === 'qmp')?.facts?.qemu).toMatch(/^\d+\.\d+\.\d+$/)
    expect(dry.steps.find((s) => s.step === 'accel')?.found).toMatch(/^(KVM usable|TCG fallback)/)
    expect(dry.steps.find((s) => s.step === 'migration-port')?.found).toMatch(/n2 → n1:\d+, n1 → n2:\d+/)

    const applied = await runJob({ labId, wizard: 'qemu' })
    expect(applied.ok).toBe(true)
    const second = await runJob({ labId, wizard: 'qemu' })
    expect(second.steps.map((s) => s.outcome)).toEqual(Array(7).fill('already_done'))
    const status = (await call('setup.list', { labId })).find((w) => w.id === 'qemu')!
    expect(status.state).toBe('done')
    expect(status.steps).toHaveLength(7)
  }, 120_000)

  it('a missing package shows as the install command in the dry run, as it would run over SSH', async () => {
    const w: Wizard = { id: 'mpi', title: 'T', about: '', steps: [packagesStep('packages', 'P', { apt: ['qemu-system-x86', 'miglab-no-such-package'], dnf: [] })] }
    const { poolExec } = await import('../src/main/setup/pool-exec')
    const n = core.services.labs.get(labId)!.nodes[0]
    const r = await runWizard(w, { labId, nodes: [{ id: n.id, key: String(n.id), name: n.name, host: n.host, port: n.port, user: n.user }], dryRun: true }, {
      exec: poolExec(core.services.ssh),
      store: new SetupStepsRepo(core.services.db),
      progress: quietProgress(),
    })
    expect(r.steps[0]).toMatchObject({ outcome: 'would_change', found: 'apt: missing miglab-no-such-package; installed qemu-system-x86' })
    expect(r.steps[0].commands).toEqual(['n1: (export DEBIAN_FRONTEND=noninteractive && { apt-get install -y --no-install-recommends miglab-no-such-package\n})'])
  }, 60_000)

  it('MPI wizard dry run on real nodes: OpenMPI found and its version recorded; trust and files listed as commands, nothing changed', async () => {
    const dry = await runJob({ labId, wizard: 'mpi', dryRun: true })
    const by = Object.fromEntries(dry.steps.map((s) => [`${s.step}@${s.node ?? 'lab'}`, s]))
    expect(by['packages@n1'].outcome).toBe('already_done')
    expect(by['version@n1'].found).toMatch(/^Open MPI \d+\.\d+/)
    expect(by['hostfile@lab'].outcome).toMatch(/already_done|would_change/)
    for (const s of dry.steps) expect(s.commands.join('\n')).not.toMatch(/StrictHostKeyChecking=no/)
  }, 120_000)

  it('NFS wizard dry run on real nodes: the server kind is detected from the kernel, nothing fails, nothing changes', async () => {
    const dry = await runJob({ labId, wizard: 'nfs', dryRun: true })
    console.log(dry.steps.map((s) => `${s.node ?? 'lab'} ${s.step}: ${s.outcome} — ${s.found}\n  ${s.commands.join('\n  ')}`).join('\n'))
    expect(dry.ok).toBe(true)
    expect(dry.steps.find((s) => s.step === 'server-packages')?.found).toMatch(/the kernel has nfsd|the kernel has no nfsd: user-space NFS-Ganesha/)
    for (const s of dry.steps) expect(['already_done', 'would_change', 'not_checkable']).toContain(s.outcome)
  }, 120_000)

  it('sshd gone mid-wizard: the failure names the node and the step; once it is back, the wizard resumes to done', async () => {
    await sshd.stop()
    const job = await call('setup.run', { labId, wizard: 'qemu' })
    const failed = await core.services.jobs.wait(job.id)
    expect(failed.status).toBe('failed')
    expect(failed.error?.message).toMatch(/^QEMU packages on node n1: /)
    const stored = (await call('setup.list', { labId })).find((w) => w.id === 'qemu')!
    expect(stored.steps.find((s) => s.step === 'packages' && s.node === 'n1')?.outcome).toBe('failed')
    expect(stored.state).toBe('partial') // a failed connection is not drift: nothing was found changed
    await sshd.start()
    const again = await runJob({ labId, wizard: 'qemu' })
    expect(again.steps.map((s) => s.outcome)).toEqual(Array(7).fill('already_done'))
    expect((await call('setup.list', { labId })).find((w) => w.id === 'qemu')!.state).toBe('done')
  }, 180_000)

  it.skipIf(!existsSync('/usr/sbin/useradd') || !existsSync('/usr/bin/sudo'))('a node user that is not root: root steps go through sudo with the password on stdin, never in the dry-run text, the log or the store', async () => {
    const user = `mlwz${process.pid % 100000}`
    const password = `Pw-${Math.random().toString(36).slice(2)}-'"$;`
    const sudoers = `/etc/sudoers.d/miglab-test-${user}`
    const marker = `/var/tmp/miglab-wizard-${process.pid}`
    execFileSync('useradd', ['-m', '-s', '/bin/sh', user])
    try {
      execFileSync('chpasswd', { input: `${user}:${password}\n` })
      writeFileSync(sudoers, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 })
      const n = await call('nodes.add', { labId, name: 'su', host: '127.0.0.1', port: sshd.port, user, auth: { kind: 'password', password } })
      const ref: NodeRef = { id: n.id, key: String(n.id), name: 'su', host: n.host, port: n.port, user }
      const rootFile: Step = {
        id: 'root-file',
        title: 'A file only root can make',
        scope: 'node',
        async check(ctx, t) {
          const r = await ctx.exec.run(t.node!, cmd('stat', '-c', '%U', marker))
          return r.code === 0 && r.stdout.trim() === 'root' ? { kind: 'ok', found: `${marker} owned by root` } : { kind: 'change', found: `no ${marker}`, change: `create ${marker} as root` }
        },
        plan: (_ctx, t) => [{ node: t.node!, command: and(cmd('touch', marker), cmd('chmod', '600', marker)), asRoot: true }],
      }
      const w: Wizard = { id: 'mpi', title: 'sudo test', about: '', steps: [rootFile] }
      const { poolExec } = await import('../src/main/setup/pool-exec')
      const deps = { exec: poolExec(core.services.ssh), store: new SetupStepsRepo(core.services.db), progress: quietProgress() }
      const dry = await runWizard(w, { labId, nodes: [ref], dryRun: true }, deps)
      expect(dry.steps[0].commands).toEqual([`su: sudo -S -p '' -- sh -c '{ touch ${marker}\n} && { chmod 600 ${marker}\n}'`])
      const applied = await runWizard(w, { labId, nodes: [ref], dryRun: false }, deps)
      expect(applied.steps[0]).toMatchObject({ outcome: 'applied', found: `${marker} owned by root` })
      const again = await runWizard(w, { labId, nodes: [ref], dryRun: false }, deps)
      expect(again.steps[0].outcome).toBe('already_done')
      const everything = JSON.stringify([dry, applied, again, deps.progress.lines, core.services.db.prepare('SELECT * FROM setup_steps').all(), core.services.db.prepare('SELECT * FROM logs').all()])
      expect(everything).not.toContain(password)
      await call('nodes.remove', { nodeId: n.id })
    } finally {
      rmSync(sudoers, { force: true })
      rmSync(marker, { force: true })
      execFileSync('userdel', ['-f', '-r', user], { stdio: 'ignore' })
    }
  }, 120_000)

  it('CLI: miglab setup qemu --lab wiz --dry-run / --json, through the same engine and store', () => {
    const env = { ...process.env, MIGLAB_DATA_DIR: t.dataDir }
    const bin = fileURLToPath(new URL('../bin/miglab.mjs', import.meta.url))
    const human = spawnSync(process.execPath, [bin, 'setup', 'qemu', '--lab', 'wiz', '--dry-run'], { env, encoding: 'utf8', timeout: 120_000 })
    expect(human.stderr).toContain('%]')
    expect(human.status).toBe(0)
    expect(human.stdout).toMatch(/n1  QMP answering, versions recorded: already done \(QMP answers; QEMU \d/)
    expect(human.stdout).toMatch(/QEMU\/KVM hypervisor on wiz: done \(dry run: nothing changed\)/)
    const json = spawnSync(process.execPath, [bin, 'setup', 'qemu', '--lab', 'wiz', '--json'], { env, encoding: 'utf8', timeout: 120_000 })
    expect(json.status).toBe(0)
    const out = JSON.parse(json.stdout) as { state: string; report: SetupRunReport }
    expect(out.state).toBe('done')
    expect(out.report.steps.map((s) => s.outcome)).toEqual(Array(7).fill('already_done'))
    const bad = spawnSync(process.execPath, [bin, 'setup', 'nosuch', '--lab', 'wiz'], { env, encoding: 'utf8', timeout: 60_000 })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/miglab: /)
  }, 240_000)
})
