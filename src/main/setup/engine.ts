import type { SetupRunReport, SetupStepResult, WizardId } from '../../shared/contract/setup'
import { MigLabError, toApiError, type ApiError } from '../../shared/errors'
import { sudo, type RemoteCommand } from '../remote/command'
import type { ExecResult } from '../ssh/exec'
import type { SetupStepsRepo } from '../store/setup-steps'

/** A lab node as a step sees it. */
export interface NodeRef {
  id: number
  /** Pool key. */
  key: string
  name: string
  host: string
  port: number
  user: string
}

export interface RunOptions {
  sudo?: boolean
  stdin?: string
  timeoutMs?: number
}

/** How steps reach nodes; production: the SSH pool, tests: the sshd fixture or recorded outputs. */
export interface NodeExec {
  run(node: NodeRef, command: RemoteCommand, opts?: RunOptions): Promise<ExecResult>
  /** Whether root commands on this node go through sudo, and with a password on stdin. */
  privilege(node: NodeRef): 'root' | 'sudo-password' | 'sudo-nopassword'
}

/** What a check found. `change` says what apply would do; a step that cannot look says why. */
export type Finding =
  | { kind: 'ok'; found: string; facts?: Record<string, unknown> }
  | { kind: 'change'; found: string; change: string; facts?: Record<string, unknown> }
  | { kind: 'not_checkable'; reason: string }

/** One command apply will run. `secret` is written to stdin and never shown or logged. */
export interface PlannedCommand {
  node: NodeRef
  command: RemoteCommand
  asRoot: boolean
  secret?: () => string
  timeoutMs?: number
}

export interface StepTarget {
  /** The node a per-node step runs on; undefined for a lab step. */
  node?: NodeRef
  nodes: NodeRef[]
}

export interface StepContext {
  exec: NodeExec
  signal?: AbortSignal
  log(message: string): void
  /** Wizard options (pool master, password…), already validated at the door. */
  options: Record<string, unknown>
}

export interface Step {
  id: string
  title: string
  scope: 'node' | 'lab'
  /** Read-only: what is there, what apply would change. */
  check(ctx: StepContext, t: StepTarget): Promise<Finding>
  /** The commands apply runs when check found a change (idempotent). Absent: the step only looks. */
  plan?(ctx: StepContext, t: StepTarget, finding: Finding & { kind: 'change' }): PlannedCommand[]
  /** After apply; defaults to check. */
  verify?(ctx: StepContext, t: StepTarget): Promise<Finding>
  /** Turns a failed apply command into a clear error (cause, stderr tail, fix). */
  explain?(err: MigLabError, t: StepTarget): MigLabError
}

export interface Wizard {
  id: WizardId
  title: string
  about: string
  steps: Step[]
}

export interface Progress {
  progress(fraction: number, step: string): void
  log(level: 'info' | 'warn' | 'error', message: string): void
  checkCancelled(): void
  signal?: AbortSignal
}

/** The text a planned command runs as on its node, exactly (sudo wrapping included; secrets are on stdin). */
export function commandText(exec: NodeExec, p: PlannedCommand): string {
  if (!p.asRoot) return p.command.text
  const priv = exec.privilege(p.node)
  return priv === 'root' ? p.command.text : sudo(p.command, { password: priv === 'sudo-password' }).text
}

const tail = (text: string): string => text.split('\n').filter((l) => l.trim() !== '').slice(-20).join('\n')

/**
 * Runs a wizard: for each step in order (per node, or once for the lab) check; in dry run, list the
 * commands apply would run; otherwise apply what check found missing, then verify. Every result is
 * stored, so the page shows the wizard's state and a later run resumes: what check finds done is
 * "already done" and is not applied again. The first failure stops the wizard (later steps build on it).
 */
export async function runWizard(
  w: Wizard,
  args: { labId: number; nodes: NodeRef[]; dryRun: boolean; checkOnly?: boolean; options?: Record<string, unknown> },
  deps: { exec: NodeExec; store: SetupStepsRepo; progress: Progress },
): Promise<SetupRunReport> {
  const { exec, progress } = deps
  const units: { step: Step; target: StepTarget }[] = []
  for (const step of w.steps) {
    if (step.scope === 'lab') units.push({ step, target: { nodes: args.nodes } })
    else for (const node of args.nodes) units.push({ step, target: { node, nodes: args.nodes } })
  }
  const ctx: StepContext = { exec, signal: progress.signal, log: (m) => progress.log('info', m), options: args.options ?? {} }
  const results: SetupStepResult[] = []
  let failed = false
  for (const [i, { step, target }] of units.entries()) {
    const where = target.node ? `${step.title} on ${target.node.name}` : step.title
    if (failed) {
      results.push({ step: step.id, title: step.title, node: target.node?.name ?? null, outcome: 'not_run', found: 'an earlier step failed', commands: [] })
      continue
    }
    progress.checkCancelled()
    progress.progress(i / units.length, where)
    const result = await runUnit(w, step, target, args, ctx, deps)
    if (result.outcome === 'failed') failed = true
    progress.log(result.outcome === 'failed' ? 'error' : 'info', `${where}: ${describe(result)}`)
    if (result.error?.detail?.command) progress.log('error', `command: ${result.error.detail.command}${result.error.detail.stderrTail ? `\n${result.error.detail.stderrTail}` : ''}`)
    results.push(result)
  }
  progress.progress(1, failed ? 'Stopped at a failed step' : 'Done')
  return { wizard: w.id, labId: args.labId, dryRun: args.dryRun, ok: !failed, steps: results }
}

export function describe(r: SetupStepResult): string {
  switch (r.outcome) {
    case 'already_done':
      return `already done (${r.found})`
    case 'applied':
      return `applied, verified (${r.found})`
    case 'would_change':
      return `would change: ${r.change} (found: ${r.found})`
    case 'not_checkable':
      return `not checkable: ${r.found}`
    case 'failed':
      return `failed: ${r.error?.message ?? ''}${r.error?.detail?.hint ? ` — fix: ${r.error.detail.hint}` : ''}`
    case 'not_run':
      return 'not run (an earlier step failed)'
  }
}

async function runUnit(
  w: Wizard,
  step: Step,
  target: StepTarget,
  args: { labId: number; dryRun: boolean; checkOnly?: boolean },
  ctx: StepContext,
  deps: { exec: NodeExec; store: SetupStepsRepo; progress: Progress },
): Promise<SetupStepResult> {
  const { exec, store, progress } = deps
  const base = { step: step.id, title: step.title, node: target.node?.name ?? null }
  const key = { labId: args.labId, wizard: w.id, step: step.id, nodeId: target.node?.id ?? null }
  const save = (r: SetupStepResult): SetupStepResult => {
    store.record(key, r)
    return r
  }
  const failure = (err: unknown, commands: string[]): SetupStepResult => {
    const e = toApiError(err)
    const error: ApiError = { ...e, message: `${step.title}${target.node ? ` on node ${target.node.name}` : ''}: ${e.message}` }
    return save({ ...base, outcome: 'failed', found: e.message, commands, error })
  }
  let finding: Finding
  try {
    finding = await step.check(ctx, target)
  } catch (err) {
    if (err instanceof MigLabError && err.code === 'cancelled') throw err
    return failure(err, [])
  }
  if (finding.kind === 'not_checkable') return save({ ...base, outcome: 'not_checkable', found: finding.reason, commands: [] })
  if (finding.kind === 'ok') return save({ ...base, outcome: 'already_done', found: finding.found, commands: [], ...(finding.facts ? { facts: finding.facts } : {}) })
  const planned = step.plan ? step.plan(ctx, target, finding) : []
  const commands = planned.map((p) => `${p.node.name}: ${commandText(exec, p)}`)
  if (args.dryRun || args.checkOnly) return save({ ...base, outcome: 'would_change', found: finding.found, change: finding.change, commands })
  if (planned.length === 0) {
    return failure(new MigLabError('setup_manual', `${finding.change}`, { hint: 'MigLab cannot do this step for you; do it on the node, then check again.' }), [])
  }
  for (const p of planned) {
    progress.checkCancelled()
    progress.log('info', `${p.node.name}$ ${commandText(exec, p)}`)
    try {
      const r = await exec.run(p.node, p.command, {
        sudo: p.asRoot,
        ...(p.secret ? { stdin: `${p.secret()}\n` } : {}),
        ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
      })
      for (const line of tail(r.stdout).split('\n').slice(-5)) if (line) progress.log('info', `  ${line}`)
      if (r.code !== 0) {
        const err = new MigLabError('remote_failed', `Command failed on node ${p.node.name} (${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}).`, {
          command: commandText(exec, p),
          stderrTail: tail(r.stderr),
        })
        throw step.explain ? step.explain(err, target) : err
      }
    } catch (err) {
      if (err instanceof MigLabError && err.code === 'cancelled') throw err
      return failure(err, commands)
    }
  }
  let after: Finding
  try {
    after = await (step.verify ?? step.check)(ctx, target)
  } catch (err) {
    return failure(err, commands)
  }
  if (after.kind !== 'ok') {
    const why = after.kind === 'change' ? `still needs: ${after.change} (found: ${after.found})` : `not checkable: ${after.reason}`
    return failure(new MigLabError('setup_verify_failed', `Applied, but verification failed: ${why}.`, { hint: 'Open a terminal on the node and look at what the commands above left behind.' }), commands)
  }
  return save({ ...base, outcome: 'applied', found: after.found, change: finding.change, commands, ...(after.facts ? { facts: after.facts } : {}) })
}
