import { MigLabError } from '../../shared/errors'
import {
  addInclude,
  bindMount,
  commandExists,
  configIncludes,
  exportfsList,
  exportfsReload,
  fileChecksum,
  ganeshaRestart,
  ganeshaRunning,
  isMountpoint,
  kernelNfsClient,
  kernelNfsd,
  kernelNfsdRunning,
  kernelNfsdStart,
  libnfsChecksum,
  libnfsList,
  mkdirP,
  nfsMount,
  readFileIfPresent,
  sameDirectory,
  sha256,
  writeFileFromStdin,
  writeRandomFile,
} from '../remote/setup'
import type { Finding, NodeRef, Step, StepContext, Wizard } from './engine'
import { checkPackages, explainInstallError, installPlan, type PackageSet } from './packages'

/** Where the server exports from and the clients mount. */
export const NFS = { export: '/srv/miglab', mount: '/mnt/miglab', proof: '.miglab-proof', proofBytes: 16 * 1024 * 1024, ganeshaConf: '/etc/ganesha/ganesha.conf', ganeshaExport: '/etc/ganesha/miglab.conf', exports: '/etc/exports.d/miglab.exports' }

const KERNEL_SERVER: PackageSet = { apt: ['nfs-kernel-server'], dnf: ['nfs-utils'] }
const GANESHA: PackageSet = { apt: ['nfs-ganesha', 'nfs-ganesha-vfs'], dnf: ['nfs-ganesha', 'nfs-ganesha-vfs'] }
const KERNEL_CLIENT: PackageSet = { apt: ['nfs-common'], dnf: ['nfs-utils'] }
const LIBNFS: PackageSet = { apt: ['libnfs-utils'], dnf: ['libnfs-utils'] }

const server = (t: { nodes: NodeRef[] }): NodeRef => t.nodes[0]
const clients = (t: { nodes: NodeRef[] }): NodeRef[] => t.nodes.slice(1)

async function serverKind(ctx: StepContext, node: NodeRef): Promise<'kernel' | 'ganesha'> {
  return (await ctx.exec.run(node, kernelNfsd(), { timeoutMs: 10_000 })).stdout.trim() === 'kernel' ? 'kernel' : 'ganesha'
}
async function clientKind(ctx: StepContext, node: NodeRef): Promise<'kernel' | 'libnfs'> {
  return (await ctx.exec.run(node, kernelNfsClient(), { timeoutMs: 10_000 })).stdout.trim() === 'kernel' ? 'kernel' : 'libnfs'
}

/** The export line for the kernel server: one entry per client host, nothing wider. */
export function kernelExports(path: string, hosts: string[]): string {
  return `${path} ${hosts.map((h) => `${h}(rw,sync,no_subtree_check,no_root_squash)`).join(' ')}\n`
}

/**
 * MigLab's NFS-Ganesha file (included from ganesha.conf): an EXPORT block (VFS FSAL), readable and
 * writable by the lab's hosts only, NFSv3 and v4. No grace period: a lab export has no clients that
 * reclaim locks after a restart, and during the 90 s grace Ganesha refuses every write (NFSv3
 * CREATE's setattr with JUKEBOX, NFSv4 with GRACE). RQUOTA on a kernel-chosen port: its fixed 875
 * lies in the reserved range root's RPC clients (rpcinfo, libnfs) bind at random, and a clash is fatal.
 */
export function ganeshaExport(path: string, hosts: string[]): string {
  return [
    '# Written by MigLab (NFS wizard); included from ganesha.conf.',
    'NFSv4 { Graceless = true; }',
    'NFS_Core_Param { Rquota_Port = 0; }',
    'EXPORT {',
    '  Export_Id = 77;',
    `  Path = "${path}";`,
    `  Pseudo = "${path}";`,
    '  Protocols = 3, 4;',
    '  Access_Type = None;',
    '  Squash = No_Root_Squash;',
    '  FSAL { Name = VFS; }',
    `  CLIENT { Clients = ${hosts.join(', ')}; Access_Type = RW; }`,
    '}',
    '',
  ].join('\n')
}

const serverPackages: Step = {
  id: 'server-packages',
  title: 'NFS server packages (kernel nfsd, or NFS-Ganesha where the kernel has none)',
  scope: 'lab',
  async check(ctx, t) {
    const node = server(t)
    const kind = await serverKind(ctx, node)
    const f = await checkPackages(ctx, node, kind === 'kernel' ? KERNEL_SERVER : GANESHA)
    if (f.kind === 'not_checkable') return f
    const why = kind === 'kernel' ? 'the kernel has nfsd' : 'the kernel has no nfsd: user-space NFS-Ganesha'
    return { ...f, found: `${node.name} (${why}): ${f.found}`, facts: { ...(f.facts ?? {}), kind } } as Finding
  },
  plan: (_ctx, t, finding) => [installPlan(server(t), finding)],
  explain: (err, t) => explainInstallError(err, server(t).name, /ganesha/.test(err.detail?.command ?? '') ? GANESHA : KERNEL_SERVER),
}

const serverExport: Step = {
  id: 'export',
  title: `Export ${NFS.export} to the other nodes`,
  scope: 'lab',
  async check(ctx, t) {
    const node = server(t)
    if (clients(t).length === 0) return { kind: 'not_checkable', reason: 'the lab has one node; shared storage needs a second' }
    const hosts = clients(t).map((n) => n.host)
    const kind = await serverKind(ctx, node)
    if (kind === 'kernel') {
      const want = kernelExports(NFS.export, hosts)
      const have = (await ctx.exec.run(node, readFileIfPresent(NFS.exports), { timeoutMs: 10_000 })).stdout
      const live = await ctx.exec.run(node, exportfsList(), { sudo: true, timeoutMs: 10_000 })
      const running = (await ctx.exec.run(node, kernelNfsdRunning(), { timeoutMs: 10_000 })).code === 0
      const facts = { kind, config: want }
      if (have === want && live.code === 0 && live.stdout.includes(NFS.export) && running) return { kind: 'ok', found: `${node.name} exports ${NFS.export} to ${hosts.join(', ')} (kernel nfsd)`, facts }
      const state = [have === want ? '' : have ? `${NFS.exports} differs or is not loaded` : `no MigLab export on ${node.name}`, running ? '' : 'kernel nfsd not running']
      return { kind: 'change', found: state.filter(Boolean).join(', ') || `${NFS.exports} is not loaded`, change: `write ${NFS.exports}, reload the exports and start kernel nfsd where it does not run`, facts }
    }
    const want = ganeshaExport(NFS.export, hosts)
    const have = (await ctx.exec.run(node, readFileIfPresent(NFS.ganeshaExport), { timeoutMs: 10_000 })).stdout
    const included = (await ctx.exec.run(node, configIncludes(NFS.ganeshaConf, NFS.ganeshaExport), { timeoutMs: 10_000 })).code === 0
    const running = (await ctx.exec.run(node, ganeshaRunning(), { timeoutMs: 10_000 })).code === 0
    const facts = { kind, config: want }
    if (have === want && included && running) return { kind: 'ok', found: `${node.name} exports ${NFS.export} to ${hosts.join(', ')} (NFS-Ganesha answering NFSv3)`, facts }
    const state = [
      have === want ? `${NFS.ganeshaExport} in place` : have ? `${NFS.ganeshaExport} differs` : `no ${NFS.ganeshaExport}`,
      included ? '' : `not included from ${NFS.ganeshaConf}`,
      running ? 'ganesha.nfsd answering' : 'ganesha.nfsd not running or not answering here',
    ]
    return { kind: 'change', found: state.filter(Boolean).join(', '), change: `write ${NFS.ganeshaExport}, include it from ${NFS.ganeshaConf} and (re)start NFS-Ganesha`, facts }
  },
  plan(_ctx, t, finding) {
    const node = server(t)
    const config = finding.facts!.config as string
    const kernel = finding.facts!.kind === 'kernel'
    if (kernel) {
      return [
        { node, command: mkdirP(NFS.export), asRoot: true },
        { node, command: writeFileFromStdin(NFS.exports), asRoot: true, input: async () => config },
        { node, command: exportfsReload(), asRoot: true },
        { node, command: kernelNfsdStart(), asRoot: true, timeoutMs: 60_000 },
      ]
    }
    return [
      { node, command: mkdirP(NFS.export), asRoot: true },
      { node, command: writeFileFromStdin(NFS.ganeshaExport), asRoot: true, input: async () => config },
      { node, command: addInclude(NFS.ganeshaConf, NFS.ganeshaExport), asRoot: true },
      { node, command: ganeshaRestart(NFS.ganeshaConf), asRoot: true, timeoutMs: 60_000 },
    ]
  },
}

/**
 * The server sees the share at the clients' mount path too, so a path there (a guest's disk, which
 * `xl migrate` reopens by the same name on the destination) names one file on every node. A bind
 * mount rather than an NFS mount of its own export: a kernel that is NFS client and nfsd at once can
 * deadlock under memory pressure (flushing the client's dirty pages needs nfsd to allocate), and a
 * Xen dom0 runs in little fixed memory. With libnfs clients there is no mount path to match.
 */
async function serverSelf(ctx: StepContext, node: NodeRef, kind: 'kernel' | 'libnfs'): Promise<Finding> {
  if (kind !== 'kernel') return { kind: 'ok', found: `${node.name} is the NFS server` }
  if ((await ctx.exec.run(node, sameDirectory(NFS.export, NFS.mount), { timeoutMs: 10_000 })).code === 0) return { kind: 'ok', found: `${node.name} is the NFS server; ${NFS.mount} is ${NFS.export} (bind mount)` }
  return { kind: 'change', found: `${node.name} is the NFS server; ${NFS.mount} is not its export`, change: `bind-mount ${NFS.export} on ${NFS.mount} (the same paths on every node)` }
}

/** Each other node reaches the export: a kernel mount where the kernel has an NFS client, else user-space libnfs. */
const client: Step = {
  id: 'client',
  title: 'Client reaches the export (the server: the export at the same path)',
  scope: 'node',
  async check(ctx, t) {
    const node = t.node!
    const srv = server(t)
    const kind = await clientKind(ctx, node)
    if (node === srv) return serverSelf(ctx, node, kind)
    if (kind === 'kernel') {
      const src = (await ctx.exec.run(node, isMountpoint(NFS.mount), { timeoutMs: 10_000 })).stdout.trim()
      if (src === `${srv.host}:${NFS.export}`) return { kind: 'ok', found: `${NFS.mount} mounts ${src} (kernel NFS client)`, facts: { kind } }
      const pk = await checkPackages(ctx, node, KERNEL_CLIENT)
      return { kind: 'change', found: src ? `${NFS.mount} mounts ${src}` : `${NFS.mount} is not mounted`, change: `mount ${srv.host}:${NFS.export} on ${NFS.mount}`, facts: { kind, packages: pk } }
    }
    if ((await ctx.exec.run(node, commandExists('nfs-ls'), { timeoutMs: 10_000 })).code !== 0) {
      const pk = await checkPackages(ctx, node, LIBNFS)
      if (pk.kind !== 'change') return { kind: 'not_checkable', reason: `${node.name}'s kernel has no NFS client and nfs-ls is not on its PATH` }
      return { kind: 'change', found: `${node.name}'s kernel has no NFS client; ${pk.found}`, change: 'install libnfs-utils (user-space NFS)', facts: { kind, packages: pk } }
    }
    const url = `nfs://${srv.host}${NFS.export}`
    const r = await ctx.exec.run(node, libnfsList(url), { timeoutMs: 30_000 })
    if (r.code === 0) return { kind: 'ok', found: `${url} answers over user-space NFS (libnfs; this kernel has no NFS client)`, facts: { kind } }
    return { kind: 'not_checkable', reason: `${url} does not answer from ${node.name}: ${r.stderr.trim().slice(-200)} (the export step must be done first)` }
  },
  plan(_ctx, t, finding) {
    const node = t.node!
    if (node === server(t)) return [{ node, command: bindMount(NFS.export, NFS.mount), asRoot: true }]
    const pk = finding.facts!.packages as Finding | undefined
    const install = pk?.kind === 'change' ? [installPlan(node, pk)] : []
    if (finding.facts!.kind === 'libnfs') return install
    return [...install, { node, command: nfsMount(`${server(t).host}:${NFS.export}`, NFS.mount), asRoot: true }]
  },
}

/** Parses `sha256 -` and `seconds start end` lines. */
export function parseChecksum(stdout: string): { sha: string; seconds?: number } {
  const sha = /^([0-9a-f]{64})\b/m.exec(stdout)?.[1] ?? ''
  const s = /^seconds (\S+) (\S+)$/m.exec(stdout)
  return { sha, ...(s ? { seconds: Number(s[2]) - Number(s[1]) } : {}) }
}

/** A file of random bytes written on the server, read back and checksummed on every other node. */
const proof: Step = {
  id: 'proof',
  title: 'Cross-node proof (random file, checksum, throughput)',
  scope: 'lab',
  async check(ctx, t) {
    const srv = server(t)
    if (clients(t).length === 0) return { kind: 'not_checkable', reason: 'the lab has one node' }
    const path = `${NFS.export}/${NFS.proof}`
    const want = parseChecksum((await ctx.exec.run(srv, sha256(path), { timeoutMs: 30_000 })).stdout).sha
    if (!want) return { kind: 'change', found: 'no proof file yet', change: `write ${NFS.proofBytes / 1024 ** 2} MiB of random bytes on ${srv.name} and read them on the other nodes` }
    const seen: string[] = []
    const facts: Record<string, unknown> = { sha256: want, writer: srv.name, bytes: NFS.proofBytes }
    for (const n of clients(t)) {
      const kind = await clientKind(ctx, n)
      const r = await ctx.exec.run(n, kind === 'kernel' ? fileChecksum(`${NFS.mount}/${NFS.proof}`) : libnfsChecksum(`nfs://${srv.host}${path}`), { timeoutMs: 120_000 })
      const got = parseChecksum(r.stdout)
      if (got.sha !== want) return { kind: 'change', found: `${n.name} read ${got.sha ? 'different bytes' : 'nothing'} (${r.stderr.trim().slice(-200)})`, change: 'write a new proof file and read it again' }
      const mibs = got.seconds ? NFS.proofBytes / 1024 ** 2 / got.seconds : undefined
      facts[n.name] = { sha256: got.sha, seconds: got.seconds, mibPerS: mibs }
      seen.push(`${n.name} read the same sha256${mibs ? ` at ${mibs.toFixed(0)} MiB/s` : ''}`)
    }
    return { kind: 'ok', found: `${srv.name} wrote ${want.slice(0, 12)}…; ${seen.join('; ')}`, facts }
  },
  plan: (_ctx, t) => [{ node: server(t), command: writeRandomFile(`${NFS.export}/${NFS.proof}`, NFS.proofBytes), asRoot: true, timeoutMs: 120_000 }],
  explain: (err) => new MigLabError(err.code, `Writing the proof file failed: ${err.message}`, err.detail),
}

export const nfsWizard: Wizard = {
  id: 'nfs',
  title: 'NFS shared storage',
  about: 'An NFS export on the first node (kernel nfsd, or NFS-Ganesha where the kernel has none), reached from the others (kernel mount, or user-space libnfs), then a cross-node checksum proof with throughput.',
  steps: [serverPackages, serverExport, client, proof],
}
