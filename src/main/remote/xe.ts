import { cmd, type RemoteCommand } from './command'

/**
 * Remote commands the Xen driver runs on a XenServer / XCP-ng host's dom0. Every value is a quoted
 * `key=value` argument, so a VM called `x; rm -rf /` reaches xe as one argument and nothing else.
 * Objects are addressed by uuid wherever xe allows; names only appear in the one lookup by name.
 */

export const XE = 'xe'

const kv = (key: string, value: string | number): string => `${key}=${value}`
const filters = (f: Record<string, string>): string[] => Object.entries(f).map(([k, v]) => kv(k, v))

/** `xe <class>-list [filters] params=a,b` in the default record format (one record per object). */
const list = (cls: string, filter: Record<string, string>, params: string[]): RemoteCommand => cmd(XE, `${cls}-list`, ...filters(filter), kv('params', params.join(',')))

/** `--minimal` prints only the values, comma-separated: used for uuids only, since names may hold commas. */
const uuids = (cls: string, filter: Record<string, string>): RemoteCommand => cmd(XE, `${cls}-list`, ...filters(filter), kv('params', 'uuid'), '--minimal')

/** The pool master's host uuid. */
export const poolMaster = (): RemoteCommand => cmd(XE, 'pool-list', kv('params', 'master'), '--minimal')

export const hostList = (params: string[]): RemoteCommand => list('host', {}, params)

export const hostParamGet = (host: string, param: string): RemoteCommand => cmd(XE, 'host-param-get', kv('uuid', host), kv('param-name', param))

/** Real VMs (not dom0) resident on that host. */
export const vmsOnHost = (host: string, params: string[]): RemoteCommand => list('vm', { 'resident-on': host, 'is-control-domain': 'false' }, params)

export const vmUuidsByName = (name: string): RemoteCommand => uuids('vm', { 'name-label': name, 'is-control-domain': 'false' })

export const vmRecord = (vm: string, params: string[]): RemoteCommand => list('vm', { uuid: vm }, params)

export const vmParamGet = (vm: string, param: string): RemoteCommand => cmd(XE, 'vm-param-get', kv('uuid', vm), kv('param-name', param))

export const vmStart = (vm: string, host: string): RemoteCommand => cmd(XE, 'vm-start', kv('uuid', vm), kv('on', host))

export const vmShutdown = (vm: string, force: boolean): RemoteCommand => (force ? cmd(XE, 'vm-shutdown', kv('uuid', vm), '--force') : cmd(XE, 'vm-shutdown', kv('uuid', vm)))

/*
 * A chosen migration network within one pool. `xe vm-migrate` cannot say it: its only network
 * argument, `remote-network=`, switches xe to storage motion (VM.migrate_send), which needs
 * remote-master/-username/-password (xen-api ocaml/xapi-cli-server/cli_operations.ml, vm_migrate),
 * and the options it passes to VM.pool_migrate are only force/live/copy/compress. VM.pool_migrate
 * itself takes `network` (a network ref) in its options since xapi 1.297 (commit 56d676af43,
 * ocaml/xapi/xapi_vm_migrate.ml), so that call is made through the XenAPI Python module every
 * host has (its storage manager uses it), over dom0's local socket as root, with no password: on
 * the pool master, since a member's xapi answers API calls with HOST_IS_SLAVE.
 */
const POOL_MIGRATE_ON_NETWORK = `import sys, XenAPI
s = XenAPI.xapi_local()
s.xenapi.login_with_password('root', '', '1.0', 'miglab')
try:
    x = s.xenapi
    x.VM.pool_migrate(x.VM.get_by_uuid(sys.argv[1]), x.host.get_by_uuid(sys.argv[2]), {'live': 'true', 'network': x.network.get_by_uuid(sys.argv[3])})
finally:
    s.xenapi.session.logout()
`
const WITH_PYTHON = 'for p in python3 python; do command -v "$p" >/dev/null && exec "$p" -c "$0" "$@"; done; echo "no python on this host" >&2; exit 127'

/**
 * The migration itself (synchronous: it returns when the VM has moved or failed): `xe vm-migrate`,
 * or VM.pool_migrate with the `network` option when a migration network is chosen.
 */
export const vmMigrateArgv = (vm: string, host: string, network?: string): string[] =>
  network ? ['sh', '-c', WITH_PYTHON, POOL_MIGRATE_ON_NETWORK, vm, host, network] : [XE, 'vm-migrate', kv('uuid', vm), kv('host-uuid', host), kv('live', 'true')]

/** The same as one command, for error messages (the text the host's shell runs inside `detached`). */
export const vmMigrate = (vm: string, host: string, network?: string): RemoteCommand => {
  const [program, ...args] = vmMigrateArgv(vm, host, network)
  return cmd(program, ...args)
}

// vm-migrate has no documented --async, so it runs detached on the host and its exit status is
// appended to its own log; the caller follows the xapi task it created and reads the log at the end.
const DETACH = `log=$1; shift
nohup sh -c '"$@"; echo "xe-exit=$?"' sh "$@" >"$log" 2>&1 </dev/null &
echo $!`

/** Starts `argv` in the background on the host, output to `log`; prints the background PID. */
export const detached = (log: string, argv: string[]): RemoteCommand => cmd('sh', '-c', DETACH, 'sh', log, ...argv)

export const taskUuids = (): RemoteCommand => uuids('task', {})

export const pendingTasks = (): RemoteCommand => list('task', { status: 'pending' }, ['uuid', 'name-label', 'created'])

/** Everything the poll reads of one task but its progress, in one round trip. */
export const taskRecord = (task: string): RemoteCommand => list('task', { uuid: task }, ['uuid', 'status', 'created', 'finished', 'error_info', 'result'])

/** Prints the task's progress on one line, as xapi's CLI formats floats (`%.3f`, records.ml): `0.300`. */
export const taskProgress = (task: string): RemoteCommand => cmd(XE, 'task-param-get', kv('uuid', task), kv('param-name', 'progress'))

const NETWORK_FIELDS = ['uuid', 'name-label', 'bridge']

export const networkList = (): RemoteCommand => list('network', {}, NETWORK_FIELDS)

export const networkRecord = (network: string): RemoteCommand => list('network', { uuid: network }, NETWORK_FIELDS)

export const taskCancel = (task: string): RemoteCommand => cmd(XE, 'task-cancel', kv('uuid', task))
