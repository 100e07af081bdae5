import { MigLabError } from '../../../shared/errors'

/**
 * `xe` prints a failed call's error *description* (xapi's datamodel doc string), then one
 * `param: value` line per error parameter — never the error code. These are the descriptions
 * MigLab maps to its own codes, from xapi's documented error table (ocaml/idl/datamodel_errors.ml).
 */
interface Known {
  /** The start of the description (whitespace-normalised: xapi releases differ in double spaces). */
  prefix: string
  code: string
  message: (p: Record<string, string>) => string
  hint: (p: Record<string, string>) => string
}

const gib = (bytes: string | undefined): string => (bytes && /^\d+$/.test(bytes) ? `${(Number(bytes) / 1024 ** 3).toFixed(2)} GiB` : (bytes ?? '?'))

const KNOWN: Known[] = [
  {
    prefix: 'Not enough host memory is available to perform this operation',
    code: 'xen_host_memory',
    message: (p) => `The host does not have enough free memory: ${gib(p.needed)} needed, ${gib(p.available)} available.`,
    hint: () => 'Shut down or migrate other VMs off the host, lower the VM’s memory, or choose a host with more free memory.',
  },
  {
    prefix: 'The server failed to handle your request, due to an internal error.',
    code: 'xen_internal_error',
    message: (p) => `XAPI failed with an internal error${p.message ? `: ${p.message}` : '.'}`,
    hint: () => 'Look at /var/log/xensource.log on the host (the message above names the failing part); restarting the toolstack (xe-toolstack-restart) often clears a stuck xapi.',
  },
  {
    prefix: 'The credentials given by the user are incorrect',
    code: 'xen_auth_failed',
    message: () => 'The pool master refused the user name or password.',
    hint: () => 'Check the pool master’s root user and password, then run the wizard again.',
  },
  {
    prefix: 'The host joining the pool cannot have any running VMs.',
    code: 'xen_pool_join_running_vms',
    message: () => 'The host cannot join the pool while VMs run on it.',
    hint: () => 'Shut down (or move) the host’s VMs, then join again.',
  },
  {
    prefix: 'The host joining the pool cannot have any running or suspended VMs.',
    code: 'xen_pool_join_running_vms',
    message: () => 'The host cannot join the pool while VMs run or are suspended on it.',
    hint: () => 'Shut down (or move) the host’s VMs and discard suspended states, then join again.',
  },
  {
    prefix: 'The host joining the pool cannot contain any shared storage.',
    code: 'xen_pool_join_shared_sr',
    message: () => 'The host cannot join the pool while it has shared storage of its own.',
    hint: () => 'Detach (xe pbd-unplug, xe sr-forget) the host’s shared SRs, then join again; the pool’s SRs become available after the join.',
  },
  {
    prefix: 'The host joining the pool cannot already be a master of another pool.',
    code: 'xen_pool_join_is_master',
    message: () => 'The host is already the master of another pool with other hosts.',
    hint: () => 'Eject the other hosts from that pool first (xe pool-eject), or join the other way round.',
  },
  {
    prefix: 'The host joining the pool must have the same product version as the pool master.',
    code: 'xen_pool_join_version',
    message: () => 'The host runs a different XCP-ng/XenServer version than the pool master.',
    hint: () => 'Upgrade the older host so both run the same release (and patches), then join again.',
  },
  {
    prefix: 'There was an error connecting to the host while joining it in the pool.',
    code: 'xen_pool_join_unreachable',
    message: () => 'The host could not connect to the pool master.',
    hint: () => 'Check that the master address is right and reachable from this host on TCP 443 (management network).',
  },
  {
    prefix: 'The hosts in this pool are not homogeneous.',
    code: 'xen_pool_not_homogeneous',
    message: (p) => `The hosts are not homogeneous${p.reason ? `: ${p.reason}` : '.'}`,
    hint: () => 'Pools need hosts with compatible CPUs and the same configuration; fix what the reason names, then join again.',
  },
]

const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim()

/** Parses xe's error output: the description (first line), then `name: value` parameter lines. */
export function parseXeError(output: string): { description: string; params: Record<string, string> } {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '')
  const params: Record<string, string> = {}
  const description: string[] = []
  for (const line of lines) {
    const m = /^([A-Za-z_][A-Za-z0-9_ -]*): (.*)$/.exec(line.trim())
    if (m && description.length > 0) params[m[1]] = m[2]
    else if (Object.keys(params).length === 0) description.push(line.trim())
  }
  return { description: normalise(description.join(' ')), params }
}

/**
 * A clear MigLab error for what xe printed, keeping the command and stderr tail; an error MigLab
 * does not know keeps xe's own description as its message (it is a sentence already).
 */
export function xeError(output: string, command: string): MigLabError {
  const { description, params } = parseXeError(output)
  const known = KNOWN.find((k) => description.startsWith(normalise(k.prefix)))
  const stderrTail = output.trim().split('\n').slice(-20).join('\n')
  if (known) return new MigLabError(known.code, known.message(params), { hint: known.hint(params), command, stderrTail, xe: { description, params } })
  return new MigLabError('xe_failed', description ? `xe: ${description}` : 'xe failed without a message.', {
    hint: 'The xe command and its output are below; `xe help <command>` on the host explains its parameters.',
    command,
    stderrTail,
    xe: { description, params },
  })
}
