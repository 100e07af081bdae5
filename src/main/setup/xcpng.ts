import { MigLabError } from '../../shared/errors'
import { xeError } from '../hypervisors/xen/xe-errors'
import { parseMap, parseRecords, type XeRecord } from '../hypervisors/xen/xe-parse'
import { commandExists, nfsSrCreate, pbdList, poolJoin, poolList, poolNameSet, xeHosts } from '../remote/setup'
import type { Finding, NodeRef, Step, StepContext, Wizard } from './engine'

async function xe(ctx: StepContext, node: NodeRef, command: ReturnType<typeof xeHosts>): Promise<XeRecord[]> {
  const r = await ctx.exec.run(node, command, { timeoutMs: 30_000 })
  if (r.code !== 0) throw xeError(`${r.stderr}${r.stdout}`, command.text)
  return parseRecords(r.stdout)
}

/** The pool master: the node named in the options (by host or name), else the lab's first node. */
const masterOf = (ctx: StepContext, nodes: NodeRef[]): NodeRef => {
  const want = ctx.options.poolMaster as string | undefined
  return (want && nodes.find((n) => n.host === want || n.name === want)) || nodes[0]
}

const xePresent: Step = {
  id: 'xe',
  title: 'xe answering',
  scope: 'node',
  async check(ctx, t) {
    const node = t.node!
    if ((await ctx.exec.run(node, commandExists('xe'), { timeoutMs: 10_000 })).code !== 0) {
      return { kind: 'change', found: `no xe on ${node.name}`, change: 'install XCP-ng or XenServer on the host (MigLab does not install a hypervisor)' }
    }
    const hosts = await xe(ctx, node, xeHosts())
    const me = hosts.find((h) => h.address === node.host) ?? hosts[0]
    const version = parseMap(me?.['software-version'] ?? '')
    const product = version.product_version ?? version.platform_version ?? 'unknown version'
    return { kind: 'ok', found: `xe answers: ${me?.['name-label'] ?? node.name}, ${version.product_brand ?? 'XenServer'} ${product}`, facts: { product, hostUuid: me?.uuid } }
  },
}

/**
 * Every node a member of the master's pool. Joining is `xe pool-join` on the joining host; the
 * master's password goes to its stdin and is read into a shell variable, so it is never on a
 * command line, in a log or in the dry-run text.
 */
const pool: Step = {
  id: 'pool',
  title: 'Pool: every host joined',
  scope: 'lab',
  async check(ctx, t) {
    const master = masterOf(ctx, t.nodes)
    const members = await xe(ctx, master, xeHosts())
    const addresses = new Set(members.map((h) => h.address))
    const outside = t.nodes.filter((n) => n !== master && !addresses.has(n.host))
    const listed = members.map((h) => `${h['name-label']} (${h.address})`).join(', ')
    const facts = { master: master.name, hosts: members.map((h) => ({ name: h['name-label'], address: h.address, uuid: h.uuid })), outside: outside.map((n) => n.name) }
    if (outside.length === 0) return { kind: 'ok', found: `pool of ${master.name}: ${listed}`, facts }
    return { kind: 'change', found: `pool of ${master.name}: ${listed}; not members: ${outside.map((n) => n.name).join(', ')}`, change: `join ${outside.map((n) => n.name).join(', ')} to the pool of ${master.name} (${master.host})`, facts }
  },
  plan(ctx, t, finding) {
    const master = masterOf(ctx, t.nodes)
    const password = ctx.options.poolMasterPassword as string | undefined
    if (password === undefined) {
      throw new MigLabError('setup_needs_input', `Joining the pool needs the password of ${master.name}'s ${String(ctx.options.poolMasterUser ?? 'root')} user.`, {
        hint: 'Give the pool master’s password in the wizard (it is used once, on stdin, and never stored).',
      })
    }
    const outside = new Set(finding.facts!.outside as string[])
    return t.nodes
      .filter((n) => outside.has(n.name))
      .map((n) => ({ node: n, command: poolJoin(master.host, String(ctx.options.poolMasterUser ?? 'root')), asRoot: true, secret: () => password, timeoutMs: 5 * 60_000 }))
  },
  explain(err) {
    const out = err.detail?.stderrTail ?? ''
    return out ? xeError(out, err.detail?.command ?? '') : err
  },
}

const poolName: Step = {
  id: 'pool-name',
  title: 'Pool name',
  scope: 'lab',
  async check(ctx, t): Promise<Finding> {
    const master = masterOf(ctx, t.nodes)
    const [p] = await xe(ctx, master, poolList())
    if (!p) return { kind: 'not_checkable', reason: `xe pool-list on ${master.name} listed no pool` }
    const want = ctx.options.poolName as string | undefined
    const facts = { uuid: p.uuid, name: p['name-label'] }
    if (!want || p['name-label'] === want) return { kind: 'ok', found: `pool "${p['name-label'] ?? ''}"`, facts }
    return { kind: 'change', found: `pool "${p['name-label'] ?? ''}"`, change: `rename the pool to "${want}"`, facts }
  },
  plan(ctx, t, finding) {
    return [{ node: masterOf(ctx, t.nodes), command: poolNameSet(finding.facts!.uuid as string, ctx.options.poolName as string), asRoot: true }]
  },
}

const SR_LABEL = 'MigLab NFS'

/** Shared storage for the pool: an NFS SR on the export the NFS wizard made (or any the user names). */
const nfsSr: Step = {
  id: 'nfs-sr',
  title: 'Shared storage: NFS SR',
  scope: 'lab',
  async check(ctx, t): Promise<Finding> {
    const server = ctx.options.srServer as string | undefined
    const path = ctx.options.srPath as string | undefined
    if (!server || !path) return { kind: 'skip', reason: 'no NFS export given (server and path): the pool keeps its local storage, so VMs cannot move with their disks on it' }
    const master = masterOf(ctx, t.nodes)
    const existing = (await xe(ctx, master, pbdList())).find((r) => {
      const c = parseMap(r['device-config'] ?? '')
      return c.server === server && c.serverpath === path
    })
    const hostUuid = (await xe(ctx, master, xeHosts())).find((h) => h.address === master.host)?.uuid
    const facts = { server, path, srUuid: existing?.['sr-uuid'], hostUuid }
    if (existing) return { kind: 'ok', found: `NFS SR ${existing['sr-uuid']} on ${server}:${path}`, facts }
    if (!hostUuid) return { kind: 'not_checkable', reason: `xe host-list on ${master.name} does not list its own address ${master.host}` }
    return { kind: 'change', found: `no SR on ${server}:${path}`, change: `create the shared NFS SR "${SR_LABEL}" on ${server}:${path}`, facts }
  },
  plan(ctx, t, finding) {
    const f = finding.facts as { server: string; path: string; hostUuid: string }
    return [{ node: masterOf(ctx, t.nodes), command: nfsSrCreate(f.hostUuid, f.server, f.path, SR_LABEL), asRoot: true, timeoutMs: 5 * 60_000 }]
  },
  explain(err) {
    const out = err.detail?.stderrTail ?? ''
    return out ? xeError(out, err.detail?.command ?? '') : err
  },
}

export const xcpngWizard: Wizard = {
  id: 'xcpng',
  title: 'XCP-ng / XenServer pool',
  about: 'xe answering on every host, every host joined to one pool (password on stdin only), the pool named, a shared NFS SR on the lab export (optional); hosts listed.',
  steps: [xePresent, pool, poolName, nfsSr],
}
