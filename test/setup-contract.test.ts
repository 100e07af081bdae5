import { describe, expect, it } from 'vitest'
import type { RemoteCommand } from '../src/main/remote/command'
import { xeError, parseXeError } from '../src/main/hypervisors/xen/xe-errors'
import { runWizard, type NodeExec, type NodeRef, type Progress } from '../src/main/setup/engine'
import { mpiFiles, mpiWizard } from '../src/main/setup/mpi'
import { dsmRuntimeSource } from '../src/main/lab/resources'
import { xcpngWizard } from '../src/main/setup/xcpng'
import { parseXlInfo, xenWizard } from '../src/main/setup/xen'
import type { ExecResult } from '../src/main/ssh/exec'
import { openDb } from '../src/main/store/db'
import { SetupStepsRepo } from '../src/main/store/setup-steps'

/*
 * CONTRACT tests: no XCP-ng pool, Xen dom0 or second MPI host runs here. The node replies below are
 * the documented output formats (xe CLI reference and xapi's error table; `xl info`; OpenMPI's
 * `mpirun --version`), so these tests pin what MigLab sends and how it reads the answers — not
 * that a real pool accepts them.
 */

const nodes: NodeRef[] = [
  { id: 1, key: '1', name: 'h1', host: '10.0.0.1', port: 22, user: 'root', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH1' },
  { id: 2, key: '2', name: 'h2', host: '10.0.0.2', port: 2222, user: 'root', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2' },
]

function fake(reply: (n: NodeRef, text: string, stdin?: string) => Partial<ExecResult>) {
  const ran: { node: string; text: string; stdin?: string }[] = []
  const exec: NodeExec = {
    async run(n, c: RemoteCommand, o = {}) {
      ran.push({ node: n.name, text: c.text, ...(o.stdin !== undefined ? { stdin: o.stdin } : {}) })
      return { code: 0, signal: null, stdout: '', stderr: '', ...reply(n, c.text, o.stdin) }
    },
    privilege: () => 'root',
  }
  return { exec, ran }
}
const progress = (): Progress & { lines: string[] } => {
  const lines: string[] = []
  return { lines, progress: () => {}, log: (_l, m) => lines.push(m), checkCancelled: () => {} }
}
const store = () => {
  const db = openDb(':memory:')
  db.exec("INSERT INTO labs (id, name, kind, created_at) VALUES (1, 'lab', 'real', '2026-01-01')")
  for (const n of nodes) db.prepare("INSERT INTO nodes (id, lab_id, name, host, user, auth, created_at) VALUES (?, 1, ?, ?, 'root', '{}', '2026-01-01')").run(n.id, n.name, n.host)
  return { db, repo: new SetupStepsRepo(db) }
}

// `xe host-list params=…` in the record format (XenServer CLI reference).
const hostRecord = (uuid: string, name: string, address: string) =>
  `uuid ( RO)                  : ${uuid}\n          name-label ( RW): ${name}\n             address ( RO): ${address}\n    software-version (MRO): product_version: 8.2.1; product_brand: XCP-ng; platform_version: 3.2.1; xapi: 1.20\n\n\n`

describe('CONTRACT (documented xe error format): xe errors become clear MigLab errors', () => {
  it('not enough host memory, with needed:/available: lines', () => {
    const out = 'Not enough host memory is available to perform this operation\nneeded: 4299161600\navailable: 1073741824\n'
    expect(parseXeError(out)).toEqual({ description: 'Not enough host memory is available to perform this operation', params: { needed: '4299161600', available: '1073741824' } })
    const e = xeError(out, 'xe vm-start uuid=…')
    expect(e.code).toBe('xen_host_memory')
    expect(e.message).toBe('The host does not have enough free memory: 4.00 GiB needed, 1.00 GiB available.')
    expect(e.detail).toMatchObject({ command: 'xe vm-start uuid=…', stderrTail: out.trim() })
    expect(e.detail?.hint).toMatch(/Shut down or migrate other VMs/)
  })
  it('internal errors carry their message: line (both spacings xapi releases print)', () => {
    for (const head of [
      'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.',
      'The server failed to handle your request, due to an internal error.  The given message may give details useful for debugging the problem.',
    ]) {
      const e = xeError(`${head}\nmessage: Db_exn.Read_missing_uuid("host", "", "OpaqueRef:NULL")\n`, 'xe pool-join …')
      expect(e.code).toBe('xen_internal_error')
      expect(e.message).toBe('XAPI failed with an internal error: Db_exn.Read_missing_uuid("host", "", "OpaqueRef:NULL")')
      expect(e.detail?.hint).toMatch(/xensource\.log/)
    }
  })
  it('an unknown description is kept as the message, never swallowed', () => {
    const e = xeError('Cannot migrate a VM with more than one snapshot.\nvm: x\n', 'xe vm-migrate')
    expect(e.code).toBe('xe_failed')
    expect(e.message).toBe('xe: Cannot migrate a VM with more than one snapshot.')
  })
})

describe('CONTRACT (documented xe formats): XCP-ng / XenServer wizard', () => {
  const PASSWORD = `s3cr3t-'"$;-pw`
  const members = new Set(['10.0.0.1'])
  let poolName = ''
  const xeNode = (joinStderr?: string) => (n: NodeRef, text: string, stdin?: string): Partial<ExecResult> => {
    if (text.startsWith('command -v xe') || text.includes('command -v xe')) return {}
    if (text.startsWith('xe host-list')) {
      if (n.name === 'h1') return { stdout: [...members].map((a, i) => hostRecord(`uuid-${i}`, `host-${a}`, a)).join('') }
      return { stdout: hostRecord('uuid-h2', 'h2', '10.0.0.2') }
    }
    if (text.startsWith('xe pool-list')) return { stdout: `uuid ( RO)          : pool-uuid\n    name-label ( RW): ${poolName}\n        master ( RO): uuid-0\n\n` }
    if (text.includes('xe pool-join')) {
      if (joinStderr) return { code: 1, stderr: joinStderr }
      if (stdin === `${PASSWORD}\n`) members.add('10.0.0.2')
      return {}
    }
    if (text.startsWith('xe pool-param-set')) {
      poolName = /name-label=([^']*)/.exec(text)![1]
      return {}
    }
    return { code: 127, stderr: 'not found' }
  }

  it('dry run shows the pool-join per host without the password; apply sends it on stdin only; second run already done', async () => {
    members.clear()
    members.add('10.0.0.1')
    const { exec, ran } = fake(xeNode())
    const { db, repo } = store()
    const options = { poolMasterUser: 'root', poolMasterPassword: PASSWORD, poolName: 'thesis' }
    const dry = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: true, options }, { exec, store: repo, progress: progress() })
    const join = dry.steps.find((s) => s.step === 'pool')!
    expect(join.outcome).toBe('would_change')
    expect(join.commands).toEqual([`h2: sh -c 'IFS= read -r p; exec xe pool-join master-address="$1" master-username="$2" master-password="$p"' sh 10.0.0.1 root`])
    expect(dry.steps.find((s) => s.step === 'pool-name')!.commands).toEqual(["h1: xe pool-param-set 'uuid=pool-uuid' 'name-label=thesis'"])

    const p = progress()
    const applied = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options }, { exec, store: repo, progress: p })
    expect(applied.ok).toBe(true)
    expect(applied.steps.find((s) => s.step === 'pool')).toMatchObject({ outcome: 'applied', found: 'pool of h1: host-10.0.0.1 (10.0.0.1), host-10.0.0.2 (10.0.0.2)' })
    expect(ran.find((r) => r.text.includes('pool-join'))?.stdin).toBe(`${PASSWORD}\n`)
    // The password is nowhere but on that stdin: not in a command, a log line, a result or the store.
    expect(ran.some((r) => r.text.includes(PASSWORD))).toBe(false)
    expect(p.lines.join('\n')).not.toContain(PASSWORD)
    expect(JSON.stringify(applied)).not.toContain(PASSWORD)
    expect(JSON.stringify(db.prepare('SELECT * FROM setup_steps').all())).not.toContain(PASSWORD)
    const again = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options }, { exec, store: repo, progress: progress() })
    // Without an NFS export named, the SR step is skipped with the reason (the pool keeps local storage).
    expect(again.steps.map((s) => s.outcome)).toEqual(['already_done', 'already_done', 'already_done', 'already_done', 'skipped'])
    expect(again.steps.at(-1)!.found).toMatch(/^no NFS export given/)
  })

  it('a shared NFS SR on the named export: sr-create on the master with its host uuid; found by its device config afterwards', async () => {
    members.clear()
    members.add('10.0.0.1')
    members.add('10.0.0.2')
    let pbds = ''
    const base = xeNode()
    const { exec } = fake((n, text, stdin) => {
      if (text.startsWith('xe pbd-list')) return { stdout: pbds }
      if (text.startsWith('xe sr-create')) {
        if (text.includes('/full')) return { code: 1, stderr: 'The SR backend failed to complete the operation.\n' }
        pbds = `sr-uuid ( RO)            : sr-1\n    device-config (MRO): server: 10.0.0.9; serverpath: /srv/miglab\n\n`
        return {}
      }
      return base(n, text, stdin)
    })
    const options = { srServer: '10.0.0.9', srPath: '/srv/miglab' }
    const dry = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: true, options }, { exec, store: store().repo, progress: progress() })
    expect(dry.steps.find((s) => s.step === 'nfs-sr')!.commands).toEqual([
      "h1: xe sr-create 'host-uuid=uuid-0' 'type=nfs' 'shared=true' 'content-type=user' 'name-label=MigLab NFS' 'device-config:server=10.0.0.9' 'device-config:serverpath=/srv/miglab'",
    ])
    const { repo } = store()
    const applied = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options }, { exec, store: repo, progress: progress() })
    expect(applied.steps.find((s) => s.step === 'nfs-sr')).toMatchObject({ outcome: 'applied', found: 'NFS SR sr-1 on 10.0.0.9:/srv/miglab' })
    const again = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options }, { exec, store: repo, progress: progress() })
    expect(again.steps.find((s) => s.step === 'nfs-sr')!.outcome).toBe('already_done')
    // A description xe prints that MigLab has no mapping for is kept as the message, with the command.
    const failed = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options: { srServer: '10.0.0.9', srPath: '/srv/full' } }, { exec, store: store().repo, progress: progress() })
    const err = failed.steps.find((s) => s.step === 'nfs-sr')!.error!
    expect(err.message).toContain('The SR backend failed to complete the operation.')
    expect(err.detail?.command).toContain('xe sr-create')
  })

  it('joining without the password stops with what to give; a refused join becomes the mapped xe error with its fix', async () => {
    members.clear()
    members.add('10.0.0.1')
    const { exec } = fake(xeNode())
    const noPw = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false }, { exec, store: store().repo, progress: progress() })
    expect(noPw.steps.find((s) => s.step === 'pool')?.error?.code).toBe('setup_needs_input')

    const refused = fake(xeNode('The host joining the pool cannot have any running VMs.\n'))
    const r = await runWizard(xcpngWizard, { labId: 1, nodes, dryRun: false, options: { poolMasterPassword: PASSWORD } }, { exec: refused.exec, store: store().repo, progress: progress() })
    const err = r.steps.find((s) => s.step === 'pool')!.error!
    expect(err.code).toBe('xen_pool_join_running_vms')
    expect(err.message).toBe('Pool: every host joined: The host cannot join the pool while VMs run on it.')
    expect(err.detail?.hint).toMatch(/Shut down/)
    expect(err.detail?.command).not.toContain(PASSWORD)
  })
})

describe('CONTRACT (documented `xl info` format): Xen Project wizard', () => {
  const XL_INFO = [
    'host                   : dom0-a',
    'release                : 6.1.0-18-amd64',
    'machine                : x86_64',
    'nr_cpus                : 8',
    'total_memory           : 32607',
    'free_memory            : 28012',
    'xen_major              : 4',
    'xen_minor              : 17',
    'xen_extra              : .3-pre',
    'xen_commandline        : placeholder',
    'xen_caps               : xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_64',
  ].join('\n')
  it('reads xl info; dom0_mem missing is a change MigLab names but leaves to the user; xenbr0 and dom0 trust checked', async () => {
    expect(parseXlInfo(XL_INFO)).toMatchObject({ xen_major: '4', xen_minor: '17', xen_extra: '.3-pre', total_memory: '32607' })
    const { exec, ran } = fake((n, text) => {
      if (text.includes('command -v xl')) return {}
      if (text === 'xl info') return { stdout: XL_INFO.replace('placeholder', n.name === 'h1' ? 'dom0_mem=4096M,max:4096M loglvl=all' : 'loglvl=all') }
      if (text.startsWith('ip -o link show dev xenbr0')) return { stdout: '3: xenbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT\n' }
      if (text.startsWith('ssh ')) return { code: 255, stderr: 'root@10.0.0.2: Permission denied (publickey).\n' }
      return { code: 1 }
    })
    const r = await runWizard(xenWizard, { labId: 1, nodes, dryRun: true }, { exec, store: store().repo, progress: progress() })
    const by = Object.fromEntries(r.steps.map((s) => [`${s.step}@${s.node ?? 'lab'}`, s]))
    expect(by['toolstack@h1']).toMatchObject({ outcome: 'already_done', found: 'Xen 4.17.3-pre, 8 CPUs, 32607 MiB (free 28012 MiB)' })
    expect(by['dom0-mem@h1']).toMatchObject({ outcome: 'already_done', found: "dom0_mem=4096M,max:4096M on Xen's command line" })
    expect(by['dom0-mem@h2'].outcome).toBe('would_change')
    expect(by['dom0-mem@h2'].change).toMatch(/GRUB_CMDLINE_XEN_DEFAULT/)
    expect(by['xenbr0@h2'].outcome).toBe('already_done')
    expect(by['ssh-trust@lab'].found).toMatch(/h1 → h2 \(root@10.0.0.2: Permission denied \(publickey\).\)/)
    // Trust is probed with pinned host keys only.
    const probes = ran.filter((x) => x.text.startsWith('ssh '))
    expect(probes[0].text).toBe("ssh -o 'BatchMode=yes' -o 'StrictHostKeyChecking=yes' -o 'ConnectTimeout=5' -p 22 root@10.0.0.2 true")
    expect(ran.some((x) => /StrictHostKeyChecking=no/.test(x.text))).toBe(false)
  })
})

describe('MPI cluster wizard (fake nodes; the real OpenMPI check runs in setup-wizard.test.ts)', () => {
  it('one rank per node, each on its own core (both on core 0 costs ~4 ms instead of ~10 µs)', () => {
    expect(mpiFiles([{ host: '198.18.0.11', cpus: 2 }, { host: '198.18.0.12', cpus: 2 }])).toEqual({
      hostfile: '198.18.0.11 slots=1\n198.18.0.12 slots=1\n',
      rankfile: 'rank 0=198.18.0.11 slot=0\nrank 1=198.18.0.12 slot=1\n',
    })
  })
  it('trust: key generated on the head node, authorised on the others, their MigLab-pinned host keys written to known_hosts', async () => {
    let headPub = ''
    let benchOut = ''
    const built = new Set<string>()
    const files = new Map<string, string>()
    const { exec, ran } = fake((n, text, stdin) => {
      if (text.includes('command -v apt-get')) return { stdout: 'apt\n' }
      if (text.includes('dpkg-query')) return { stdout: 'openmpi-bin installed\nlibopenmpi-dev installed\n' }
      if (text.includes('command -v mpicc')) return {}
      if (text === 'mpirun --version') return { stdout: 'mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n' }
      if (text.startsWith('ssh ')) return n.name === 'h1' && files.get('h2:authorized_keys')?.includes(headPub) && headPub ? {} : { code: 255 }
      if (text.includes('id_ed25519.pub')) return { stdout: headPub }
      if (text.includes('ssh-keygen')) {
        headPub = 'ssh-ed25519 AAAAheadkey miglab-mpi@h1\n'
        return {}
      }
      if (text.includes('read -r line')) {
        const file = text.endsWith('authorized_keys') ? 'authorized_keys' : 'known_hosts'
        files.set(`${n.name}:${file}`, (files.get(`${n.name}:${file}`) ?? '') + (stdin ?? ''))
        return {}
      }
      if (text === 'nproc') return { stdout: '2\n' }
      if (text.includes('mpicc') && stdin?.includes('miglab-dsm')) {
        files.set(`${n.name}:dsm.c`, stdin ?? '')
        files.set(`${n.name}:dsm.sha256`, text.split(' ').pop()!)
        return {}
      }
      if (text.includes('built-from.sha256')) return { stdout: files.get(`${n.name}:dsm.sha256`) ?? '' }
      // The ping-pong benchmark: compiled per node, run from the head node on the lab subnet.
      if (text.includes('test -x "$HOME/.miglab/mpi/pingpong-')) return built.has(n.name) ? {} : { code: 1 }
      if (text.includes('mpicc -O2')) {
        if (stdin?.includes('MPI_Init')) built.add(n.name)
        return {}
      }
      if (text.includes('getent ahostsv4')) return n.name === 'h1' ? { stdout: '10.0.0.1/24\n' } : { code: 4 }
      if (text.includes('mpirun --hostfile')) {
        const [sha, subnet] = text.split(/ sh /).pop()!.split(' ')
        benchOut = `# miglab-pingpong sha=${sha} subnet=${subnet} at=2026-01-01T00:00:00Z\nrank 0 h1\nrank 1 h2\npingpong 8 1000 0.02\npingpong 2097152 20 0.1\n`
        return { stdout: benchOut }
      }
      if (text.includes('pingpong.out')) return { stdout: benchOut }
      if (text.includes('.miglab/mpi') && text.includes('cat "$HOME')) return { stdout: files.get(`${n.name}:${text.split(' ').pop()}`) ?? '' }
      if (text.includes('.miglab/mpi') && text.includes('cat >')) {
        files.set(`${n.name}:${text.split(' ').pop()}`, stdin ?? '')
        return {}
      }
      return { code: 1 }
    })
    const { repo } = store()
    const dry = await runWizard(mpiWizard, { labId: 1, nodes, dryRun: true }, { exec, store: repo, progress: progress() })
    expect(dry.steps.find((s) => s.step === 'ssh-trust')!.commands.map((c) => c.split(':')[0])).toEqual(['h1', 'h2', 'h1'])
    const applied = await runWizard(mpiWizard, { labId: 1, nodes, dryRun: false }, { exec, store: repo, progress: progress() })
    expect(applied.steps.map((s) => `${s.step}@${s.node ?? 'lab'}:${s.outcome}`)).toEqual([
      'packages@h1:already_done',
      'packages@h2:already_done',
      'version@h1:already_done',
      'version@h2:already_done',
      'ssh-trust@lab:applied',
      'hostfile@lab:applied',
      'dsm-runtime@h1:applied',
      'dsm-runtime@h2:applied',
      'pingpong-build@h1:applied',
      'pingpong-build@h2:applied',
      'pingpong@lab:applied',
      'grappa@h1:skipped', // optional, no source given
      'grappa@h2:skipped',
    ])
    expect(applied.steps.find((s) => s.step === 'grappa')!.found).toMatch(/^no Grappa source given \(Grappa, the thesis’s DSM, is optional/)
    // Stored with the step: the raw lines, from which the page derives 10 µs and 2.1 GB/s.
    const pp = applied.steps.find((s) => s.step === 'pingpong')!
    expect(pp.found).toBe('8 B: 10.0 µs; 2 MiB: 0.84 GB/s (ranks on h1, h2)')
    expect(pp.commands[0]).toMatch(/^h1: .*mpirun .* sh [0-9a-f]{12} 10\.0\.0\.0\/24 2 2222\n/s)
    expect((pp.facts?.pingpong as { samples: unknown[] }).samples).toHaveLength(2)
    // The runtime is built from the shipped source, sent on stdin, and recorded by its hash.
    const shipped = dsmRuntimeSource()
    expect([files.get('h2:dsm.c'), files.get('h2:dsm.sha256')]).toEqual([shipped.text, shipped.sha256])
    expect(files.get('h2:authorized_keys')).toBe('ssh-ed25519 AAAAheadkey miglab-mpi@h1\n')
    expect(files.get('h1:known_hosts')).toBe('[10.0.0.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2\n')
    expect(files.get('h1:rankfile')).toBe('rank 0=10.0.0.1 slot=0\nrank 1=10.0.0.2 slot=1\n')
    expect(ran.some((x) => /StrictHostKeyChecking=no/.test(x.text))).toBe(false)
    const again = await runWizard(mpiWizard, { labId: 1, nodes, dryRun: false }, { exec, store: repo, progress: progress() })
    expect(again.steps.every((s) => s.outcome === (s.step === 'grappa' ? 'skipped' : 'already_done'))).toBe(true)
  })
})

describe('NFS shared storage wizard (fake nodes: a kernel without nfsd or NFS client, as here)', () => {
  it('dry run: NFS-Ganesha and libnfs chosen, every command listed; apply; verify with the checksum proof; second run already done', async () => {
    const pk = new Map<string, Set<string>>([['h1', new Set()], ['h2', new Set()]])
    const files = new Map<string, string>()
    let ganesha = false
    const proofSha = 'ab'.repeat(32)
    const { exec } = fake((n, text, stdin) => {
      if (text.includes('nfsd /proc/filesystems') || text.includes('nfs /proc/filesystems')) return { stdout: 'none\n' }
      if (text.includes('command -v apt-get')) return { stdout: 'apt\n' }
      if (text.includes('dpkg-query')) {
        const names = text.slice(text.lastIndexOf("' sh ") + 5).split(' ')
        return { stdout: names.map((p) => `${p} ${pk.get(n.name)!.has(p) ? 'installed' : 'missing'}\n`).join('') }
      }
      if (text.includes('apt-get install')) {
        for (const p of ['nfs-ganesha', 'nfs-ganesha-vfs', 'libnfs-utils']) if (text.includes(` ${p}`)) pk.get(n.name)!.add(p)
        return {}
      }
      if (text.startsWith('mkdir -p')) return {}
      if (text.includes('cat -- "$1"')) return { stdout: files.get(`${n.name}:${text.split(' ').pop()}`) ?? '' }
      if (text.includes('cat >"$1"')) {
        files.set(`${n.name}:${text.split(' ').pop()}`, stdin ?? '')
        return {}
      }
      if (text.includes('%include')) {
        files.set(`${n.name}:/etc/ganesha/ganesha.conf`, '%include "/etc/ganesha/miglab.conf"\n')
        return {}
      }
      if (text.startsWith('grep -qxF')) return files.get(`${n.name}:/etc/ganesha/ganesha.conf`)?.includes('%include "/etc/ganesha/miglab.conf"') ? {} : { code: 1 }
      if (text.includes('systemctl restart nfs-ganesha')) {
        ganesha = true
        return {}
      }
      if (text.includes('p=$(me=$(readlink')) return ganesha ? { stdout: '123\n' } : { code: 1 }
      if (text.includes('command -v nfs-ls')) return pk.get(n.name)!.has('libnfs-utils') ? {} : { code: 1 }
      if (text.startsWith('nfs-ls')) return ganesha ? { stdout: '.miglab-proof\n' } : { code: 1, stderr: 'mount failed' }
      if (text.includes('/dev/urandom')) {
        files.set('h1:proof', proofSha)
        return { stdout: `${proofSha}  -\n` }
      }
      if (text.includes('sha256sum <"$1"') && !text.includes('seconds')) return { stdout: files.has('h1:proof') ? `${proofSha}  -\n` : '' }
      if (text.includes('nfs-cat')) return { stdout: `${files.get('h1:proof') ?? ''}  -\nseconds 100.0 100.5\n` }
      return { code: 1, stderr: `unexpected: ${text}` }
    })
    const { nfsWizard } = await import('../src/main/setup/nfs')
    const { repo } = store()
    const dry = await runWizard(nfsWizard, { labId: 1, nodes, dryRun: true }, { exec, store: repo, progress: progress() })
    const by = Object.fromEntries(dry.steps.map((s) => [`${s.step}@${s.node ?? 'lab'}`, s]))
    expect(by['server-packages@lab'].found).toMatch(/the kernel has no nfsd: user-space NFS-Ganesha/)
    expect(by['server-packages@lab'].commands).toEqual(['h1: (export DEBIAN_FRONTEND=noninteractive && { apt-get install -y --no-install-recommends nfs-ganesha nfs-ganesha-vfs\n})'])
    expect(by['export@lab'].commands.map((c) => c.split('\n')[0])).toEqual([
      'h1: mkdir -p -- /srv/miglab',
      `h1: sh -c 'mkdir -p -- "$(dirname -- "$1")" && cat >"$1"' sh /etc/ganesha/miglab.conf`,
      expect.stringMatching(/^h1: sh -c .*%%include .* sh \/etc\/ganesha\/ganesha.conf \/etc\/ganesha\/miglab.conf$/),
      "h1: sh -c 'if [ -d /run/systemd/system ]; then systemctl restart nfs-ganesha || exit 1",
    ])
    expect(by['client@h2'].change).toBe('install libnfs-utils (user-space NFS)')
    expect(by['client@h1'].outcome).toBe('already_done')

    const applied = await runWizard(nfsWizard, { labId: 1, nodes, dryRun: false }, { exec, store: repo, progress: progress() })
    expect(applied.steps.map((s) => `${s.step}@${s.node ?? 'lab'}:${s.outcome}`)).toEqual([
      'server-packages@lab:applied',
      'export@lab:applied',
      'client@h1:already_done',
      'client@h2:applied',
      'proof@lab:applied',
    ])
    expect(files.get('h1:/etc/ganesha/miglab.conf')).toContain('CLIENT { Clients = 10.0.0.2; Access_Type = RW; }')
    expect(files.get('h1:/etc/ganesha/miglab.conf')).toContain('NFSv4 { Graceless = true; }')
    expect(files.get('h1:/etc/ganesha/miglab.conf')).toContain('NFS_Core_Param { Rquota_Port = 0; }')
    const proofStep = applied.steps.find((s) => s.step === 'proof')!
    expect(proofStep.found).toMatch(/h2 read the same sha256 at 32 MiB\/s/)
    const again = await runWizard(nfsWizard, { labId: 1, nodes, dryRun: false }, { exec, store: repo, progress: progress() })
    expect(again.steps.every((s) => s.outcome === 'already_done')).toBe(true)
  })
})
