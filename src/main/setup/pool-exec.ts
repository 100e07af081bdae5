import { exec } from '../ssh/exec'
import type { SshPool } from '../ssh/pool'
import type { NodeExec } from './engine'

/** Steps reach nodes through the one SSH pool; sudo (password on stdin) is exec's, so it matches dry-run text. */
export function poolExec(pool: SshPool, signal?: AbortSignal): NodeExec {
  return {
    run: (node, command, opts = {}) =>
      exec(pool, node.key, command, {
        ...(opts.sudo ? { sudo: true } : {}),
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(signal ? { signal } : {}),
      }),
    privilege: (node) => (pool.target(node.key).user === 'root' ? 'root' : pool.password(node.key) !== undefined ? 'sudo-password' : 'sudo-nopassword'),
  }
}
