import { MigLabError } from '../../shared/errors'
import { GRAPPA_HELLO, grappaBuild, grappaProbe } from '../remote/grappa'
import type { Finding, Step } from './engine'
import { checkPackages, installPlan, type PackageSet } from './packages'

/** Grappa's build needs (its README): Ruby ≥ 1.9.3, CMake ≥ 2.8.12, GCC ≥ 4.7.2; MPI-3 comes with OpenMPI ≥ 1.7.4. */
const NEEDS: Record<'ruby' | 'cmake' | 'gcc', string> = { ruby: '1.9.3', cmake: '2.8.12', gcc: '4.7.2' }
const TOOLS: PackageSet = { apt: ['ruby', 'cmake', 'g++'], dnf: ['ruby', 'cmake', 'gcc-c++'] }

/** a ≥ b for dotted versions. */
export function atLeast(a: string, b: string): boolean {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0)
  return true
}

export function parseProbe(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.split('\n').map((l) => /^(\w+) ?(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m![1], m![2].trim()]))
}

const ABOUT = 'Grappa, the thesis’s DSM, is optional and unmaintained since 2017'

/**
 * Optional: Grappa built on every node from a source tree the user brings (same path on each node).
 * With no source given, or none at that path, the step is skipped and says why.
 */
export const grappaStep: Step = {
  id: 'grappa',
  title: 'Grappa DSM built (optional, from your source)',
  scope: 'node',
  async check(ctx, t): Promise<Finding> {
    const source = ctx.options.grappaSource as string | undefined
    const tarball = (ctx.options.grappaThirdParty as string | undefined) ?? ''
    if (!source) return { kind: 'skip', reason: `no Grappa source given (${ABOUT}; give the path of its source tree on the nodes — and grappa-third-party-downloads.tar for an offline build — to build it)` }
    const p = parseProbe((await ctx.exec.run(t.node!, grappaProbe(source, tarball), { timeoutMs: 20_000 })).stdout)
    if (p.source !== 'yes') return { kind: 'skip', reason: `no Grappa source at ${source} on ${t.node!.name} (no configure script there)` }
    if (tarball && p.tarball !== 'yes') return { kind: 'skip', reason: `the third-party tarball ${tarball} is not on ${t.node!.name}` }
    if (p.built === 'yes') return { kind: 'ok', found: `${source}/${GRAPPA_HELLO} built`, facts: { source } }
    const old = (Object.keys(NEEDS) as (keyof typeof NEEDS)[]).filter((k) => !p[k] || !atLeast(p[k], NEEDS[k]))
    const packages = old.length ? await checkPackages(ctx, t.node!, TOOLS) : undefined
    if (packages?.kind === 'not_checkable') return packages
    if (old.length && packages?.kind === 'ok') {
      throw new MigLabError('grappa_tools_old', `${t.node!.name} has ${old.map((k) => `${k} ${p[k] || 'missing'} (needs ≥ ${NEEDS[k]})`).join(', ')} although the packages are installed.`, { hint: 'Install newer versions (Grappa needs Ruby ≥ 1.9.3, CMake ≥ 2.8.12, GCC ≥ 4.7.2), then check again.' })
    }
    const tools = old.length ? `install ${old.join(', ')}, then ` : ''
    const download = tarball ? '' : ' (no third-party tarball given: configure downloads Boost 1.54 and gflags, so the node needs a route out)'
    return { kind: 'change', found: `source at ${source}, hello_world not built${download}`, change: `${tools}configure with this node's gcc/g++ and make demo-hello_world in build/Make+Release`, facts: { source, tarball, packages } }
  },
  plan(_ctx, t, finding) {
    const { source, tarball, packages } = finding.facts as { source: string; tarball: string; packages?: Finding }
    return [...(packages?.kind === 'change' ? [installPlan(t.node!, packages)] : []), { node: t.node!, command: grappaBuild(source, tarball), asRoot: false, timeoutMs: 2 * 3600_000 }]
  },
  explain: (err, t) =>
    new MigLabError('grappa_build_failed', `Building Grappa on node ${t.node!.name} failed.`, {
      ...err.detail,
      hint: 'Grappa (2017) may not build with this compiler; offline, its configure needs --third-party-tarfile (grappa-third-party-downloads.tar) or a system Boost (--boost=). The build log tail is above.',
    }),
}
