import { MigLabError } from '../../shared/errors'
import { withLock } from '../util/file-lock'

const busy = (pid: number | undefined): MigLabError =>
  pid === process.pid
    ? new MigLabError('demo_lab_busy', 'Another MigLab job is changing the demo lab right now.', { hint: 'Wait for the running demo lab job to finish.' })
    : new MigLabError('demo_lab_busy', 'Another MigLab process is changing the demo lab right now.', {
        ...(pid ? { pid } : {}),
        hint: pid ? `Wait for process ${pid} to finish, or stop it.` : 'Wait for the other MigLab process to finish.',
      })

/** One `up`/`down` of a demo lab at a time, across MigLab processes. */
export const withLabLock = <T>(path: string, body: () => Promise<T>): Promise<T> => withLock(path, busy, body)
