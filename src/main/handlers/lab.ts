import type { ParsedInput } from '../../shared/api'
import type { LabResults } from '../../shared/contract/lab'
import { MigLabError } from '../../shared/errors'
import type { JobContext } from '../jobs/manager'
import { checkHost, checkPrerequisites } from '../lab/prereqs'
import { checkXenPrerequisites } from '../lab/xen/prereqs'
import type { Services } from '../services'

type LabHandlers = { [M in keyof LabResults]: (input: ParsedInput<M>) => Promise<LabResults[M]> }

/** Log prefixes that carry a failed job's fix and command, which its error record (code, message) cannot. */
export const FIX_PREFIX = 'fix: '
const COMMAND_PREFIX = 'command: '

async function logged<T>(ctx: JobContext, body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (err) {
    if (err instanceof MigLabError) {
      if (err.detail?.command) ctx.log('error', `${COMMAND_PREFIX}${err.detail.command}${err.detail.stderrTail ? `\n${err.detail.stderrTail}` : ''}`)
      if (err.detail?.hint) ctx.log('warn', `${FIX_PREFIX}${err.detail.hint}`)
    }
    throw err
  }
}

export function labHandlers(s: Services): LabHandlers {
  const demo = () => s.demoLab
  const changed = () => s.bus.emit({ type: 'labs.changed' })
  return {
    'demo.up': async ({ hypervisor, ...input }) => {
      if (hypervisor === 'xen') {
        if (input.nodes !== undefined && input.nodes !== 2) throw new MigLabError('invalid_input', 'The Xen demo lab has exactly two hosts.', { hint: 'Leave out --nodes.' })
        checkXenPrerequisites()
        return s.jobs.start('demo.up', 'Bring the Xen demo lab up', { hypervisor, ...input }, (ctx) => logged(ctx, () => s.xenLab.up({ subnet: input.subnet }, ctx)).finally(changed))
      }
      checkPrerequisites() // refuse at the call, with the exact fix, rather than in a failed job
      return s.jobs.start('demo.up', 'Bring the demo lab up', input, (ctx) => logged(ctx, () => demo().up(input, ctx)).finally(changed))
    },
    'demo.down': async ({ hypervisor }) => {
      checkHost()
      if (hypervisor === 'xen') return s.jobs.start('demo.down', 'Take the Xen demo lab down', { hypervisor }, (ctx) => logged(ctx, () => s.xenLab.down(ctx)).finally(changed))
      return s.jobs.start('demo.down', 'Take the demo lab down', {}, (ctx) => logged(ctx, () => demo().down(ctx)).finally(changed))
    },
    'demo.status': ({ hypervisor }) => (hypervisor === 'xen' ? s.xenLab.status() : demo().status()),
  }
}
