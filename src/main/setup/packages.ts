import { MigLabError } from '../../shared/errors'
import { detectPackageManager, installPackages, packageStatus, parsePackageStatus, type PackageManager } from '../remote/setup'
import type { Finding, NodeRef, PlannedCommand, Step, StepContext } from './engine'

/** Package names per package manager. */
export type PackageSet = Record<PackageManager, string[]>

/** stderr of apt/dnf when the node cannot reach a mirror (no route, no DNS, no proxy). */
const NO_MIRROR = /Temporary failure resolving|Could not resolve|Failed to fetch|Unable to locate package|Unable to fetch some archives|Network is unreachable|Cannot find a valid baseurl|Failed to download metadata|Curl error|Could not connect to/i
const SUDO_PASSWORD = /a password is required|no password was provided|incorrect password|a terminal is required/i

/** Maps an install failure to its cause and fix: no mirror in reach, sudo refused, or the manager's own error. */
export function explainInstall(err: MigLabError, node: string, packages: string[], pm: PackageManager): MigLabError {
  const stderr = err.detail?.stderrTail ?? ''
  const detail = { command: err.detail?.command, stderrTail: stderr }
  const manual = pm === 'apt' ? `apt-get install ${packages.join(' ')}` : `dnf install ${packages.join(' ')}`
  if (NO_MIRROR.test(stderr)) {
    return new MigLabError('no_package_mirror', `Node ${node} cannot reach a package mirror, so ${packages.join(', ')} cannot be installed there.`, {
      ...detail,
      hint: `Give the node a route (or an HTTP proxy) to a mirror, or install the packages by other means (\`${manual}\` with a local mirror or .deb/.rpm files), then run the wizard again. Demo-lab nodes share this machine's packages: run \`${manual}\` on this machine.`,
    })
  }
  if (SUDO_PASSWORD.test(stderr)) {
    return new MigLabError('sudo_refused', `sudo on node ${node} asked for a password MigLab does not have (or refused it).`, {
      ...detail,
      hint: 'Give the node password authentication in MigLab (the password is used for sudo on stdin), allow the user NOPASSWD sudo for the package manager, or connect as root.',
    })
  }
  return new MigLabError(err.code, `Installing ${packages.join(', ')} on node ${node} failed.`, {
    ...detail,
    hint: `Read the package manager's message above; \`${manual}\` in a terminal on the node shows the same.`,
  })
}

/** What the node's package manager (apt or dnf) says of `packages`; a change installs what is missing. */
export async function checkPackages(ctx: StepContext, node: NodeRef, packages: PackageSet): Promise<Exclude<Finding, { kind: 'skip' }>> {
  const pmOut = await ctx.exec.run(node, detectPackageManager(), { timeoutMs: 15_000 })
  const pm = pmOut.stdout.trim() as PackageManager
  if (pm !== 'apt' && pm !== 'dnf') return { kind: 'not_checkable', reason: `node ${node.name} has neither apt-get nor dnf; install ${packages.apt.join(', ')} (or your distribution's names) by hand` }
  const wanted = packages[pm]
  const r = await ctx.exec.run(node, packageStatus(pm, wanted), { timeoutMs: 30_000 })
  if (r.code !== 0) return { kind: 'not_checkable', reason: `the ${pm} package database could not be read: ${r.stderr.trim().slice(-300)}` }
  const { installed, missing } = parsePackageStatus(r.stdout)
  const facts = { packageManager: pm, installed, missing }
  if (missing.length === 0) return { kind: 'ok', found: `${installed.join(', ')} installed (${pm})`, facts }
  return { kind: 'change', found: `${pm}: missing ${missing.join(', ')}${installed.length ? `; installed ${installed.join(', ')}` : ''}`, change: `install ${missing.join(', ')} with ${pm}`, facts }
}

/** The install command for what `checkPackages` found missing. */
export function installPlan(node: NodeRef, finding: Finding & { kind: 'change' }): PlannedCommand {
  return { node, command: installPackages(finding.facts!.packageManager as PackageManager, finding.facts!.missing as string[]), asRoot: true, timeoutMs: 15 * 60_000 }
}

/** Install failures explained, for any step that installs. */
export function explainInstallError(err: MigLabError, node: string, packages: PackageSet): MigLabError {
  const pm: PackageManager = /dnf install/.test(err.detail?.command ?? '') ? 'dnf' : 'apt'
  return explainInstall(err, node, packages[pm], pm)
}

/** A per-node step: the node's package manager (apt or dnf) reports `packages` installed; apply installs what is missing. */
export function packagesStep(id: string, title: string, packages: PackageSet): Step {
  return {
    id,
    title,
    scope: 'node',
    check: (ctx, t) => checkPackages(ctx, t.node!, packages),
    plan: (_ctx, t, finding) => [installPlan(t.node!, finding)],
    explain: (err, t) => explainInstallError(err, t.node!.name, packages),
  }
}
