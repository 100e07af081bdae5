import { and, cmd, pipeline, redirect, type RemoteCommand } from './command'

/** Remote commands the QEMU driver runs on nodes. Scripts are constants; every value is a quoted argument. */

export const QEMU = 'qemu-system-x86_64'

// Created exclusively by this user, never through a symlink, in a parent no other user can rename it
// out of (owned by root or us, and writable by others only when sticky, like /dev/shm).
const PRIVATE_DIR = `d=$1; p=$(dirname "$d"); me=$(id -u)
[ -d "$p" ] || mkdir -m 700 "$p" || exit 1
set -- $(stat -c '%u %a' "$p") || exit 1
[ "$1" = 0 ] || [ "$1" = "$me" ] || { echo "$p belongs to uid $1, who could swap $d" >&2; exit 1; }
[ $((0$2 & 022)) -eq 0 ] || [ $((0$2 & 01000)) -ne 0 ] || { echo "$p is writable by other users and not sticky" >&2; exit 1; }
mkdir -m 700 "$d" 2>/dev/null
if [ -L "$d" ] || [ ! -d "$d" ]; then echo "$d is not a directory (or is a symbolic link)" >&2; exit 1; fi
[ "$(stat -c %u "$d")" = "$me" ] || { echo "$d belongs to another user" >&2; exit 1; }
chmod 700 "$d"`

/** A 0700 directory of this user's for runtime files (QMP sockets, logs, guest RAM), checked as above. */
export const privateDir = (path: string): RemoteCommand => cmd('sh', '-c', PRIVATE_DIR, 'sh', path)

/** Writes the command's stdin to `path`, 0600: secrets (TLS keys) reach a node this way, never on a command line. */
export const writeFromStdin = (path: string): RemoteCommand => cmd('sh', '-c', 'umask 077 && cat > "$1"', 'sh', path)

/**
 * Writes the VM's definition beside it (so any MigLab process can list it), then starts QEMU
 * daemonized; `privateRoots` are made private first (the run folder, the guest RAM's folder).
 */
export function startQemu(privateRoots: string[], dir: string, specFile: string, specJson: string, args: string[]): RemoteCommand {
  return and(
    ...privateRoots.map(privateDir),
    cmd('mkdir', '-p', dir),
    cmd('rm', '-f', `${dir}/qmp.sock`, `${dir}/qemu.pid`, `${dir}/serial.log`),
    redirect(cmd('printf', '%s\\n', specJson), { stdout: specFile }),
    cmd(QEMU, ...args),
  )
}

// Alive = /proc entry whose state is not Z (PID 1 here reaps orphans late).
const alive = (pid: string) => `{ s=$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ]; }`

// Waiting happens on the node: one exec instead of a round trip per poll (an SSH exec costs 0.3–2 s).
const WAIT_GONE = `i=0; while [ $i -lt "$2" ]; do ${alive('"$1"')} || exit 0; sleep 0.05; i=$((i + 1)); done; exit 1`

/** Exit 0 once the process is gone (zombies count as gone), 1 if it still runs after `ms`. */
export const waitGone = (pid: number, ms: number): RemoteCommand => cmd('sh', '-c', WAIT_GONE, 'sh', pid, Math.ceil(ms / 50))

const WAIT_MARKER = `i=0; while [ $i -lt "$4" ]; do
  grep -q -F -- "$1" "$2" 2>/dev/null && exit 0
  p=$(cat "$3" 2>/dev/null); [ -n "$p" ] && ${alive('"$p"')} || exit 3
  sleep 0.1; i=$((i + 1))
done; exit 2`

/** Exit 0 when `text` appears in the file, 3 if the process of `pidFile` died first, 2 after `ms`. */
export const waitForText = (path: string, text: string, pidFile: string, ms: number): RemoteCommand => cmd('sh', '-c', WAIT_MARKER, 'sh', text, path, pidFile, Math.ceil(ms / 100))

/** One line per VM directory: `<alive 0|1> TAB <pid> TAB <vm.json>`. */
const LIST = `for d in "$1"/*/; do
  [ -f "$d/vm.json" ] || continue
  p=$(cat "$d/qemu.pid" 2>/dev/null); a=0
  if [ -n "$p" ]; then s=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ] && a=1; fi
  printf '%s\\t%s\\t' "$a" "\${p:-0}"; head -n 1 "$d/vm.json"
done; true`

export const listVmDirs = (nodeDir: string): RemoteCommand => cmd('sh', '-c', LIST, 'sh', nodeDir)

export const signalPid = (pid: number, sig: 'TERM' | 'KILL'): RemoteCommand => redirect(cmd('kill', `-${sig}`, String(pid)), { stderr: '/dev/null' })

export const removePaths = (...paths: string[]): RemoteCommand => cmd('rm', '-rf', '--', ...paths)


export const readFile = (path: string): RemoteCommand => cmd('cat', '--', path)

/**
 * The kernel's boot id (same id = same kernel = same clock, as in the demo lab's namespaces) and
 * nanoseconds since the epoch, to estimate the node's clock offset.
 */
export const clockInfo = (): RemoteCommand => cmd('sh', '-c', 'cat /proc/sys/kernel/random/boot_id; date +%s%N')

export const qemuVersion = (): RemoteCommand => cmd(QEMU, '--version')

/** Whether KVM really works here: a paused KVM VM that is asked to quit (nested KVM can open /dev/kvm and still abort). */
export const tryKvm = (): RemoteCommand =>
  pipeline(
    cmd('printf', '%s\\n', '{"execute":"qmp_capabilities"}', '{"execute":"quit"}'),
    cmd('timeout', '10', QEMU, '-accel', 'kvm', '-cpu', 'host', '-machine', 'pc', '-m', '32', '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-qmp', 'stdio'),
  )

const FACTS = `echo "kernel=$(uname -r)"; echo "cpus=$(nproc)"
sed -n 's/^model name[[:space:]]*: */cpu=/p' /proc/cpuinfo | head -n 1
sed -n 's/^MemTotal: *\\([0-9]*\\) kB/memKiB=\\1/p' /proc/meminfo; echo "hostname=$(hostname)"`

/** `key=value` lines: kernel, cpus, cpu model, memory, hostname. */
export const hostFacts = (): RemoteCommand => cmd('sh', '-c', FACTS)

/** `dev tx_bytes rx_bytes` of the interface the node uses to reach `peer`. */
const NIC = `dev=$(ip -o route get "$1" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')
[ -n "$dev" ] || exit 1
echo "$dev $(cat /sys/class/net/$dev/statistics/tx_bytes) $(cat /sys/class/net/$dev/statistics/rx_bytes)"`

export const nicCounters = (peer: string): RemoteCommand => cmd('sh', '-c', NIC, 'sh', peer)

// Writes the value through a descriptor it keeps open and never syncs (the page cache a QEMU mapping
// shares), holds it `$3` seconds, then removes the file. NFS keeps such a write on the writer's side.
const COHERENCE_WRITE = `umask 077; exec 3<>"$1" || exit 2; printf %s "$2" >&3; echo written; sleep "$3"; exec 3>&-; rm -f -- "$1"`

/** The writer's half of the coherence proof: prints `written` once the value is in, while it holds it. */
export const coherenceWrite = (path: string, value: string, holdS: number): RemoteCommand => cmd('sh', '-c', COHERENCE_WRITE, 'sh', path, value, holdS)

// Polls the file every 10 ms for `$3` tries; exit 0 when it holds the value.
const COHERENCE_READ = `i=0; while [ "$i" -lt "$3" ]; do [ "$(head -c 64 "$1" 2>/dev/null)" = "$2" ] && exit 0; sleep 0.01; i=$((i + 1)); done; exit 1`

/** The reader's half: exit 0 once the file on this node holds `value`, 1 after `ms`. */
export const coherenceRead = (path: string, value: string, ms: number): RemoteCommand => cmd('sh', '-c', COHERENCE_READ, 'sh', path, value, Math.ceil(ms / 10))
