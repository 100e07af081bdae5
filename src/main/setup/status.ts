import type { StoredStep, WizardState, WizardStatus } from '../../shared/contract/setup'
import type { Wizard } from './engine'

// A skipped optional step is complete (nothing to do), though never "done" for drift (see the store).
const DONE = new Set(['already_done', 'applied', 'skipped'])

/**
 * A wizard's state from its stored step results: not started (nothing stored), done (every step on
 * every node last found done), drifted (a check found a change in a step once done), else partial.
 */
export function wizardState(w: Wizard, nodeNames: string[], stored: StoredStep[]): WizardState {
  if (stored.length === 0) return 'not_started'
  // Drift is a check finding a change where it once found the step done (not a failed connection).
  if (stored.some((s) => s.outcome === 'would_change' && s.doneAt !== null)) return 'drifted'
  const byKey = new Map(stored.map((s) => [`${s.step}\0${s.node ?? ''}`, s]))
  const expected = w.steps.flatMap((step) => (step.scope === 'lab' ? [`${step.id}\0`] : nodeNames.map((n) => `${step.id}\0${n}`)))
  return expected.every((k) => DONE.has(byKey.get(k)?.outcome ?? '')) ? 'done' : 'partial'
}

export function wizardStatus(w: Wizard, nodeNames: string[], stored: StoredStep[]): WizardStatus {
  return {
    id: w.id,
    title: w.title,
    about: w.about,
    catalogue: w.steps.map((s) => ({ id: s.id, title: s.title, scope: s.scope })),
    state: wizardState(w, nodeNames, stored),
    steps: stored,
  }
}
