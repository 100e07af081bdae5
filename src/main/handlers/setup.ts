import type { ParsedInput } from '../../shared/api'
import type { SetupResults, WizardId } from '../../shared/contract/setup'
import type { Lab } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import type { Services } from '../services'
import { runWizard, type NodeRef, type Wizard } from '../setup/engine'
import { poolExec } from '../setup/pool-exec'
import { wizardStatus } from '../setup/status'
import { wizards } from '../setup/wizards'
import { nodeKey } from '../ssh/targets'
import { SetupStepsRepo } from '../store/setup-steps'

type SetupHandlers = { [M in keyof SetupResults]: (input: ParsedInput<M>) => Promise<SetupResults[M]> }

export function nodeRefs(s: Services, lab: Lab): NodeRef[] {
  return lab.nodes.map((n) => {
    const k = s.hostKeys.get(n.host, n.port)
    return { id: n.id, key: nodeKey(n.id), name: n.name, host: n.host, port: n.port, user: n.user, ...(k ? { hostKey: `${k.algorithm} ${k.key}` } : {}) }
  })
}

export function setupHandlers(s: Services): SetupHandlers {
  const store = new SetupStepsRepo(s.db)
  const lab = (labId: number): Lab => {
    const l = s.labs.get(labId)
    if (!l) throw new MigLabError('lab_not_found', `No lab with id ${labId}.`)
    if (l.nodes.length === 0) throw new MigLabError('lab_empty', `Lab "${l.name}" has no nodes yet.`, { hint: 'Add the lab’s nodes first; the wizards set them up.' })
    return l
  }
  const wizard = (id: WizardId): Wizard => {
    const w = wizards[id]
    if (!w) throw new MigLabError('wizard_unavailable', `The ${id} wizard is not available in this build.`)
    return w
  }
  const start = (labId: number, id: WizardId, mode: 'dry' | 'check' | 'apply', options: Record<string, unknown>) => {
    const l = lab(labId)
    const w = wizard(id)
    const verb = mode === 'apply' ? 'Set up' : mode === 'dry' ? 'Dry run:' : 'Check'
    return s.jobs.start(`setup.${id}`, `${verb} ${w.title} on ${l.name}`, { labId, wizard: id, mode }, async (ctx) => {
      const report = await runWizard(
        w,
        { labId, nodes: nodeRefs(s, l), dryRun: mode === 'dry', checkOnly: mode === 'check', options },
        { exec: poolExec(s.ssh, ctx.signal), store, progress: { progress: ctx.progress, log: ctx.log, checkCancelled: ctx.checkCancelled, signal: ctx.signal } },
      )
      s.bus.emit({ type: 'setup.changed', labId })
      if (!report.ok) {
        const failed = report.steps.find((r) => r.outcome === 'failed')!
        throw new MigLabError(failed.error?.code ?? 'setup_failed', failed.error?.message ?? 'A step failed.', failed.error?.detail)
      }
      return report
    })
  }
  return {
    'setup.list': async ({ labId }) => {
      const l = s.labs.get(labId)
      if (!l) throw new MigLabError('lab_not_found', `No lab with id ${labId}.`)
      const names = l.nodes.map((n) => n.name)
      return Object.values(wizards).map((w) => wizardStatus(w!, names, store.list(labId, w!.id)))
    },
    'setup.run': async ({ labId, wizard: id, dryRun, options }) => start(labId, id, dryRun ? 'dry' : 'apply', options),
    'setup.check': async ({ labId, wizard: id }) => start(labId, id, 'check', {}),
  }
}
