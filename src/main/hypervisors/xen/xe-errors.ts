import { MigLabError } from '../../../shared/errors'

/**
 * `xe` prints a failed call's error *description* (xapi's datamodel doc string), then one
 * `param: value` line per error parameter — never the error code. These are the descriptions
 * MigLab maps to its own codes, from xapi's documented error table (ocaml/idl/datamodel_errors.ml).
 */
interface Known {
  /** The start of the description (whitespace-normalised: xapi releases differ in double spaces). */
  prefix: string
  /** xapi's error code, as a failed task's error_info names it (first item, then the parameters in order). */
  xapi?: string
  /** The parameter names, in error_info order (datamodel_errors.ml). */
  params?: string[]
  code: string
  message: (p: Record<string, string>) => string
  hint: (p: Record<string, string>) => string
}

const gib = (bytes: string | undefined): string => (bytes && /^\d+$/.test(bytes) ? `${(Number(bytes) / 1024 ** 3).toFixed(2)} GiB` : (bytes ?? '?'))

const memory: Omit<Known, 'prefix'> = {
  xapi: 'HOST_NOT_ENOUGH_FREE_MEMORY',
  params: ['needed', 'available'],
  code: 'xen_host_memory',
  message: (p) => `The host does not have enough free memory: ${gib(p.needed)} needed, ${gib(p.available)} available.`,
  hint: () => 'Shut down or migrate other VMs off the host, lower the VM’s memory, or choose a host with more free memory.',
}

/** What `xe vm-migrate` and `xe task-param-get` print when they fail, worded as xapi's datamodel_errors.ml has it. */
const MIGRATION: Known[] = [
  {
    prefix: 'You attempted an operation on a VM that was not in an appropriate power state at the time;',
    xapi: 'VM_BAD_POWER_STATE',
    params: ['vm', 'expected', 'actual'],
    code: 'xen_vm_power_state',
    message: (p) => `The VM is ${p.actual ?? 'in another power state'}${p.expected ? `, not ${p.expected}` : ''}, so xapi refused the operation.`,
    hint: (p) => (p.expected === 'running' ? 'Start the VM (xe vm-start) and migrate it again.' : 'Bring the VM into the state named above first (xe vm-list shows its power-state).'),
  },
  {
    prefix: "You attempted to run a VM on a host which doesn't have access to an SR needed by the VM.",
    xapi: 'VM_REQUIRES_SR',
    params: ['vm', 'sr'],
    code: 'xen_vm_requires_sr',
    message: (p) => `The destination host cannot reach storage the VM's disks are on${p.sr ? ` (SR ${p.sr})` : ''}.`,
    hint: () => 'Put the VM’s disks on shared storage every host sees (the setup wizard’s NFS SR), or plug the SR into the destination host (xe pbd-plug).',
  },
  {
    prefix: "You attempted to run a VM on a host which doesn't have a PIF on a Network needed by the VM.",
    xapi: 'VM_REQUIRES_NET',
    params: ['vm', 'network'],
    code: 'xen_vm_requires_net',
    message: (p) => `The destination host has no interface on a network the VM's NICs use${p.network ? ` (${p.network})` : ''}.`,
    hint: () => 'Give the destination host a PIF on that network (xe pif-list network-uuid=…), or move the VM’s VIF to a network both hosts have.',
  },
  {
    prefix: 'There were no servers available to complete the specified operation.',
    xapi: 'NO_HOSTS_AVAILABLE',
    code: 'xen_no_hosts_available',
    message: () => 'xapi found no host that can take the VM.',
    hint: () => 'Check that the destination host is enabled and live (xe host-list params=name-label,enabled,host-metrics-live) and has the VM’s memory free.',
  },
  {
    prefix: 'The host toolstack is still initialising. Please wait.',
    xapi: 'HOST_STILL_BOOTING',
    code: 'xen_host_booting',
    message: () => 'The host’s toolstack (xapi) is still starting.',
    hint: () => 'Wait until `xe host-list` answers on the host without this message, then try again.',
  },
  {
    prefix: 'You gave an invalid object reference.',
    xapi: 'HANDLE_INVALID',
    params: ['class', 'handle'],
    code: 'xen_object_gone',
    message: (p) => `xapi no longer knows the ${p.class ?? 'object'} MigLab named${p.handle ? ` (${p.handle})` : ''}; it may just have been deleted.`,
    hint: () => 'List the VMs, hosts and networks again (the pool changed under MigLab) and choose again.',
  },
  {
    prefix: 'The uuid you supplied was invalid.',
    xapi: 'UUID_INVALID',
    params: ['type', 'uuid'],
    code: 'xen_uuid_unknown',
    message: (p) => `The pool has no ${p.type ?? 'object'} with uuid ${p.uuid ?? '(none given)'}.`,
    hint: () => 'The object was removed or the uuid belongs to another pool: list it again (xe <class>-list) and use a current uuid.',
  },
  {
    prefix: 'An error occurred during the migration process.',
    xapi: 'VM_MIGRATE_FAILED',
    params: ['vm', 'source', 'destination', 'msg'],
    code: 'xen_migrate_failed',
    message: (p) => `The migration failed${p.msg ? `: ${p.msg}` : '.'}`,
    hint: () => 'The message names the failing part; /var/log/xensource.log on both hosts has the rest. The VM keeps running on the source.',
  },
  {
    prefix: 'This host has no PIF on the given network.',
    xapi: 'PIF_NOT_PRESENT',
    params: ['host', 'network'],
    code: 'xen_network_not_on_host',
    message: (p) => `The destination host has no interface on the chosen migration network${p.network ? ` (${p.network})` : ''}.`,
    hint: () => 'Choose a network every host has a PIF with an IP on, or leave the migration network empty (the management network).',
  },
  {
    prefix: 'The specified interface cannot be used because it has no IP address',
    xapi: 'INTERFACE_HAS_NO_IP',
    params: ['interface'],
    code: 'xen_network_no_ip',
    message: () => 'The destination host’s interface on the chosen migration network has no IP address.',
    hint: () => 'Give that PIF an address (xe pif-reconfigure-ip), or choose another migration network.',
  },
  {
    prefix: 'The operation you requested cannot be performed because the specified PIF is currently unplugged.',
    xapi: 'REQUIRED_PIF_IS_UNPLUGGED',
    params: ['PIF'],
    code: 'xen_network_unplugged',
    message: () => 'The destination host’s interface on the chosen migration network is unplugged.',
    hint: () => 'Plug it (xe pif-plug uuid=…), or choose another migration network.',
  },
  {
    prefix: 'Another operation involving the object is currently in progress',
    xapi: 'OTHER_OPERATION_IN_PROGRESS',
    params: ['class', 'object', 'operation_type', 'operation_ref'],
    code: 'xen_operation_in_progress',
    message: (p) => `xapi is already running ${p.operation_type ? `a ${p.operation_type}` : 'another operation'} on the ${p.class ?? 'object'}.`,
    hint: () => 'Wait for it to end (xe task-list shows it), then try again.',
  },
]

const KNOWN: Known[] = [
  ...MIGRATION,
  // xapi's docs say "host" in older releases and "server" in newer ones.
  { prefix: 'Not enough host memory is available to perform this operation', ...memory },
  { prefix: 'Not enough server memory is available to perform this operation', ...memory },
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

/** The MigLab error for a failed task's error_info (`[CODE, param…]`), when MigLab knows that code. */
export function xapiError(errorInfo: string[], detail: Record<string, unknown>): MigLabError | undefined {
  const known = KNOWN.find((k) => k.xapi === errorInfo[0])
  if (!known) return undefined
  const params = Object.fromEntries((known.params ?? []).map((name, i) => [name, errorInfo[i + 1]]).filter(([, v]) => v !== undefined))
  return new MigLabError(known.code, known.message(params), { hint: known.hint(params), ...detail, xapi: { code: errorInfo[0], params } })
}

/** xeError when xe's output is a description MigLab knows; undefined otherwise (the caller keeps its own message). */
export function knownXeError(output: string, command: string): MigLabError | undefined {
  const e = xeError(output, command)
  return e.code === 'xe_failed' ? undefined : e
}
