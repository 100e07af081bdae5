import { and, cmd, pipeline, redirect, type RemoteCommand } from './command'
import { writeFromStdin } from './vm'

/**
 * Remote commands the xl driver and the Xen lab run on a Xen dom0 (the `xl` toolstack of Xen Project).
 * Scripts are constants; every value is a quoted argument. Domain configs reach dom0 on stdin.
 */

export const XL = 'xl'
/** Where MigLab keeps each domain's config and definition on dom0 (tmpfs: a reboot forgets them, as it forgets the domain). */
export const XL_DIR = '/run/miglab/xl'
/**
 * xenconsoled --log=guest writes each domain's console here, under the name the domain had when it
 * appeared: a domain that arrived by migration logs to `<vm>--incoming`'s file.
 */
export const consoleLog = (domain: string): string => `/var/log/xen/console/guest-${domain}.log`
export const consoleLogs = (vm: string): string[] => [consoleLog(vm), consoleLog(`${vm}--incoming`)]

/** The VM's console as this dom0 logged it: from its own boot here, then from its arrival by migration. */
export const readConsole = (vm: string): RemoteCommand => cmd('sh', '-c', 'cat -- "$@" 2>/dev/null; true', 'sh', ...consoleLogs(vm))

export const xlList = (): RemoteCommand => cmd(XL, 'list')
export const xlInfo = (): RemoteCommand => cmd(XL, 'info')

/** Writes the config (stdin) beside the VM's definition, then creates the domain from it; its console log starts empty. */
export function xlCreate(domain: string, configPath: string, specPath: string, specJson: string): RemoteCommand {
  return and(
    cmd('mkdir', '-p', XL_DIR),
    cmd('rm', '-f', ...consoleLogs(domain)),
    writeFromStdin(configPath),
    redirect(cmd('printf', '%s\\n', specJson), { stdout: specPath }),
    cmd(XL, 'create', configPath),
  )
}

/** Stores the VM's definition on a node (the destination after a migration). */
export const writeSpec = (specPath: string, specJson: string): RemoteCommand => and(cmd('mkdir', '-p', XL_DIR), redirect(cmd('printf', '%s\\n', specJson), { stdout: specPath }))

/** The definitions MigLab stored, one JSON per line. */
export const readSpecs = (): RemoteCommand => cmd('sh', '-c', 'for f in "$1"/*.json; do [ -f "$f" ] && head -n 1 "$f"; done; true', 'sh', XL_DIR)

/**
 * The guest's raw disk: created empty (sparse, `mib` MiB) unless it exists, in `dir`'s `miglab-disks`
 * folder. `dir` must exist already: a missing mount point would otherwise put a "shared" disk on one node only.
 */
export const ensureDiskFile = (dir: string, path: string, mib: number): RemoteCommand =>
  cmd('sh', '-c', '[ -d "$1" ] || { echo "$1 is not a folder on this node (is the shared storage mounted? the NFS wizard mounts it)" >&2; exit 2; }; mkdir -p -- "$(dirname -- "$2")" && { [ -e "$2" ] || truncate -s "$3"M -- "$2"; }', 'sh', dir, path, mib)

export const xlDestroy = (domain: string): RemoteCommand => cmd(XL, 'destroy', domain)
export const xlUnpause = (domain: string): RemoteCommand => cmd(XL, 'unpause', domain)
export const removeFiles = (...paths: string[]): RemoteCommand => cmd('rm', '-f', '--', ...paths)

/**
 * `xl migrate` to the other dom0 over SSH as root (the lab's dom0 trust key; BatchMode: a missing key
 * fails at once instead of prompting nobody). Phase lines go to stderr as they happen.
 */
export const xlMigrate = (domain: string, host: string): RemoteCommand => cmd(XL, 'migrate', '-s', 'ssh -o BatchMode=yes -o ConnectTimeout=10', domain, host)

/** The fault MigLab's tests inject: the destination's receiving xl killed mid-stream ([e]: the pattern never matches this shell's own command line). */
export const killMigrateReceive = (): RemoteCommand => cmd('pkill', '-KILL', '-f', 'xl migrate-rec[e]ive')

// Waiting happens on dom0: one exec instead of a round trip per poll.
const WAIT_CONSOLE = `i=0; while [ $i -lt "$3" ]; do
  grep -q -F -- "$2" "$4" 2>/dev/null && exit 0
  xl domid "$1" >/dev/null 2>&1 || exit 3
  sleep 0.2; i=$((i + 1))
done; exit 2`

/** Exit 0 once `text` is on the domain's console, 3 if the domain is gone, 2 after `ms`. */
export const waitForConsole = (domain: string, text: string, ms: number): RemoteCommand => cmd('sh', '-c', WAIT_CONSOLE, 'sh', domain, text, Math.ceil(ms / 200), consoleLog(domain))

/** The integrity gate's source half: `bytes` random bytes in `path`, and their SHA-256. */
export const gateSource = (path: string, bytes: number): RemoteCommand => and(redirect(cmd('head', '-c', bytes, '/dev/urandom'), { stdout: path }), cmd('sha256sum', path))

/** The receiving half: the file pulled from `peer` over the lab network (as `xl migrate` pulls its stream), hashed as it arrives. */
export const gateReceive = (peer: string, path: string): RemoteCommand =>
  pipeline(cmd('ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${peer}`, cmd('cat', '--', path).text), cmd('sha256sum'))
