import { bridgeShow, commandExists, sshTrustProbe, xlInfo } from '../remote/setup'
import type { Finding, NodeRef, Step, StepContext, Wizard } from './engine'

/** `xl info` prints `key                   : value` lines. */
export function parseXlInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s*:\s?(.*)$/.exec(line)
    if (m) out[m[1]] = m[2].trim()
  }
  return out
}

async function info(ctx: StepContext, node: NodeRef): Promise<Record<string, string> | Finding> {
  if ((await ctx.exec.run(node, commandExists('xl'), { timeoutMs: 10_000 })).code !== 0) {
    return { kind: 'not_checkable', reason: `no xl on ${node.name}: install the Xen Project hypervisor and its tools and boot into Xen` }
  }
  const r = await ctx.exec.run(node, xlInfo(), { sudo: true, timeoutMs: 30_000 })
  if (r.code !== 0) return { kind: 'not_checkable', reason: `xl info failed on ${node.name} (is this dom0 booted under Xen, xenstored running?): ${r.stderr.trim().slice(-300)}` }
  return parseXlInfo(r.stdout)
}

const toolstack: Step = {
  id: 'toolstack',
  title: 'xl toolstack answering',
  scope: 'node',
  async check(ctx, t) {
    const i = await info(ctx, t.node!)
    if ('kind' in i) return i as Finding
    const version = `${i.xen_major ?? '?'}.${i.xen_minor ?? '?'}${i.xen_extra ?? ''}`
    return { kind: 'ok', found: `Xen ${version}, ${i.nr_cpus ?? '?'} CPUs, ${i.total_memory ?? '?'} MiB (free ${i.free_memory ?? '?'} MiB)`, facts: { xen: version, totalMiB: Number(i.total_memory), freeMiB: Number(i.free_memory) } }
  },
}

const dom0Memory: Step = {
  id: 'dom0-mem',
  title: 'dom0 memory fixed',
  scope: 'node',
  async check(ctx, t) {
    const i = await info(ctx, t.node!)
    if ('kind' in i) return i as Finding
    const m = /\bdom0_mem=(\S+)/.exec(i.xen_commandline ?? '')
    if (m) return { kind: 'ok', found: `dom0_mem=${m[1]} on Xen's command line` }
    return {
      kind: 'change',
      found: `Xen's command line has no dom0_mem (${i.xen_commandline || 'empty'}): dom0 balloons, and guests' memory comes and goes with it`,
      change: 'add dom0_mem=<size>,max:<size> to GRUB_CMDLINE_XEN_DEFAULT, update-grub and reboot (MigLab does not reboot your nodes)',
    }
  },
}

const bridge: Step = {
  id: 'xenbr0',
  title: 'xenbr0 bridge',
  scope: 'node',
  async check(ctx, t) {
    const r = await ctx.exec.run(t.node!, bridgeShow('xenbr0'), { timeoutMs: 10_000 })
    if (r.code === 0 && r.stdout.includes('xenbr0')) return { kind: 'ok', found: `xenbr0 is a bridge${/state UP/.test(r.stdout) ? ', up' : ''}` }
    return { kind: 'change', found: 'no xenbr0 bridge', change: 'create xenbr0 with the management NIC enslaved in the network configuration (MigLab does not rewrite a node’s network: a mistake cuts it off)' }
  },
}

/** `xl migrate` runs ssh from dom0 to dom0 as root: keys only, host keys already pinned (no prompt, no StrictHostKeyChecking=no). */
const sshTrust: Step = {
  id: 'ssh-trust',
  title: 'Root SSH trust between dom0s',
  scope: 'lab',
  async check(ctx, t) {
    if (t.nodes.length < 2) return { kind: 'not_checkable', reason: 'the lab has one node; xl migrate needs two' }
    const missing: string[] = []
    for (const from of t.nodes) {
      for (const to of t.nodes) {
        if (from === to) continue
        const r = await ctx.exec.run(from, sshTrustProbe('root', to.host), { sudo: true, timeoutMs: 20_000 })
        if (r.code !== 0) missing.push(`${from.name} → ${to.name} (${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`})`)
      }
    }
    if (missing.length === 0) return { kind: 'ok', found: 'every dom0 reaches every other as root with keys and pinned host keys' }
    return { kind: 'change', found: `no key trust: ${missing.join('; ')}`, change: 'the MPI wizard’s trust step does this for root: a key per dom0, authorised on the others, host keys pinned' }
  },
}

export const xenWizard: Wizard = {
  id: 'xen',
  title: 'Xen Project (xl)',
  about: 'xl answering on every dom0, dom0 memory fixed, the xenbr0 bridge, root SSH trust between dom0s for xl migrate.',
  steps: [toolstack, dom0Memory, bridge, sshTrust],
}
