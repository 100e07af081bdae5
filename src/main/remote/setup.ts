import { and, cmd, or, redirect, seq, withEnv, type RemoteCommand } from './command'

/**
 * Remote commands of the setup wizards. Scripts passed to `sh -c` / `bash -c` are constants; every
 * value reaches them as a positional argument through `quote`, never spliced into the script text.
 */

export type PackageManager = 'apt' | 'dnf'

const quiet = (c: RemoteCommand): RemoteCommand => redirect(c, { stdout: '/dev/null', stderr: '/dev/null' })

/** Exit 0 when `program` is on the node's PATH. */
export const commandExists = (program: string): RemoteCommand => quiet(cmd('command', '-v', program))

/** Prints `apt` or `dnf` (the node's own package manager), or nothing when neither is there. */
export const detectPackageManager = (): RemoteCommand =>
  or(and(quiet(cmd('command', '-v', 'apt-get')), cmd('echo', 'apt')), and(quiet(cmd('command', '-v', 'dnf')), cmd('echo', 'dnf')), cmd('true'))

/** One line per package the manager knows: `name installed` or `name missing`. Always exits 0. */
export function packageStatus(pm: PackageManager, packages: string[]): RemoteCommand {
  // dpkg-query/rpm print nothing useful for unknown names, so each package is asked on its own.
  const script =
    pm === 'apt'
      ? `for p in "$@"; do if dpkg-query -W -f '\${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then echo "$p installed"; else echo "$p missing"; fi; done`
      : `for p in "$@"; do if rpm -q "$p" >/dev/null 2>&1; then echo "$p installed"; else echo "$p missing"; fi; done`
  return cmd('sh', '-c', script, 'sh', ...packages)
}

/** Installs `packages` non-interactively (run as root: the engine adds sudo when the user is not root). */
export function installPackages(pm: PackageManager, packages: string[]): RemoteCommand {
  if (pm === 'apt') {
    return withEnv({ DEBIAN_FRONTEND: 'noninteractive' }, cmd('apt-get', 'install', '-y', '--no-install-recommends', ...packages))
  }
  return cmd('dnf', 'install', '-y', ...packages)
}

/** Parses `packageStatus` output. */
export function parsePackageStatus(stdout: string): { installed: string[]; missing: string[] } {
  const installed: string[] = []
  const missing: string[] = []
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (installed|missing)$/.exec(line.trim())
    if (m) (m[2] === 'installed' ? installed : missing).push(m[1])
  }
  return { installed, missing }
}

export const QEMU = 'qemu-system-x86_64'

export const qemuVersion = (): RemoteCommand => cmd(QEMU, '--version')

/** A throwaway QEMU with no machine, QMP on stdin/stdout (the caller writes the QMP commands to stdin). */
export const qmpProbe = (timeoutS: number): RemoteCommand =>
  cmd('timeout', timeoutS, QEMU, '-machine', 'none', '-display', 'none', '-nodefaults', '-no-user-config', '-qmp', 'stdio')

/**
 * KVM judged by trying it (nested KVM can open /dev/kvm and still fail at vCPU setup): a paused VM
 * with `-accel kvm` that quits over QMP. Prints `kvm-missing` when /dev/kvm is not usable at all.
 */
export const kvmProbe = (timeoutS: number): RemoteCommand =>
  or(
    and(cmd('test', '-r', '/dev/kvm'), cmd('test', '-w', '/dev/kvm'),
      cmd('timeout', timeoutS, QEMU, '-accel', 'kvm', '-cpu', 'host', '-machine', 'pc', '-m', 32, '-nodefaults', '-no-user-config', '-display', 'none', '-S', '-qmp', 'stdio')),
    seq(cmd('echo', 'kvm-unusable'), cmd('false')),
  )

/**
 * A QEMU waiting for an incoming migration on `port`: the very listener a migration uses. It exits
 * as soon as something connects (a bare connection is not a migration stream), or after `timeoutS`.
 */
export const migrationListener = (port: number, timeoutS: number): RemoteCommand =>
  cmd('timeout', timeoutS, QEMU, '-machine', 'none', '-display', 'none', '-nodefaults', '-no-user-config', '-incoming', `tcp:0.0.0.0:${port}`)

/** Opens a TCP connection to host:port and closes it; exit 0 when it connected. */
export const tcpConnect = (host: string, port: number, timeoutS: number): RemoteCommand =>
  cmd('timeout', timeoutS, 'bash', '-c', 'exec 3<>"/dev/tcp/$1/$2"', 'bash', host, port)

// ---- Xen Project (xl) -------------------------------------------------------------------------

export const xlInfo = (): RemoteCommand => cmd('xl', 'info')
/** dom0's memory as Xen's command line fixes it (`dom0_mem=`), read from `xl info`'s xen_commandline. */
export const bridgeShow = (bridge: string): RemoteCommand => cmd('ip', '-o', 'link', 'show', 'dev', bridge, 'type', 'bridge')

/** From `from`, an ssh to `to` that must succeed with keys alone and a pinned host key (BatchMode, strict checking). */
export const sshTrustProbe = (user: string, to: string, port = 22): RemoteCommand =>
  cmd('ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', '-p', port, `${user}@${to}`, 'true')

/** Prints the user's public key ($HOME/.ssh/id_ed25519.pub), or nothing when there is none. */
export const readPublicKey = (): RemoteCommand => cmd('sh', '-c', 'cat "$HOME/.ssh/id_ed25519.pub" 2>/dev/null; true')

/** Creates the user's ed25519 key pair unless it exists (no passphrase: MPI and xl start ssh unattended). */
export const ensureKeyPair = (comment: string): RemoteCommand =>
  cmd('sh', '-c', 'k="$HOME/.ssh/id_ed25519"; [ -f "$k" ] || { mkdir -p -m 700 "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -C "$1" -f "$k"; }', 'sh', comment)

/** Appends the line on stdin to $HOME/.ssh/<file> unless it is already there (authorized_keys, known_hosts). */
export const appendLineOnce = (file: 'authorized_keys' | 'known_hosts'): RemoteCommand =>
  cmd('sh', '-c', 'IFS= read -r line; d="$HOME/.ssh"; f="$d/$1"; mkdir -p -m 700 "$d" && touch "$f" && chmod 600 "$f" && { grep -qxF "$line" "$f" || printf "%s\\n" "$line" >>"$f"; }', 'sh', file)

/** Prints $HOME/.miglab/mpi/<name>, or nothing. */
export const readMpiFile = (name: 'hostfile' | 'rankfile'): RemoteCommand => cmd('sh', '-c', 'cat "$HOME/.miglab/mpi/$1" 2>/dev/null; true', 'sh', name)

/** Writes stdin to $HOME/.miglab/mpi/<name>. */
export const writeMpiFile = (name: 'hostfile' | 'rankfile'): RemoteCommand =>
  cmd('sh', '-c', 'd="$HOME/.miglab/mpi"; mkdir -p "$d" && cat >"$d/$1"', 'sh', name)

// ---- XCP-ng / XenServer (xe) ------------------------------------------------------------------

/** This host (xe on a host talks to its own pool; `host-list` shows every member with its address). */
export const xeHosts = (): RemoteCommand => cmd('xe', 'host-list', 'params=uuid,name-label,address,software-version')
export const poolList = (): RemoteCommand => cmd('xe', 'pool-list', 'params=uuid,name-label,master')
export const poolNameSet = (pool: string, name: string): RemoteCommand => cmd('xe', 'pool-param-set', `uuid=${pool}`, `name-label=${name}`)
/** Every storage connection of the pool with its SR and device config (an NFS SR's server and path are there). */
export const pbdList = (): RemoteCommand => cmd('xe', 'pbd-list', 'params=sr-uuid,device-config')
/**
 * A shared NFS SR for the pool's VM disks. No `nfsversion`: XenServer 6.x speaks NFSv3 only and
 * refuses the key; later releases default to v3 too.
 */
export const nfsSrCreate = (hostUuid: string, server: string, path: string, label: string): RemoteCommand =>
  cmd('xe', 'sr-create', `host-uuid=${hostUuid}`, 'type=nfs', 'shared=true', 'content-type=user', `name-label=${label}`, `device-config:server=${server}`, `device-config:serverpath=${path}`)
/** dom0 reads its own xl info; `xen_commandline` says whether dom0_mem is fixed. */

/**
 * Joins this host to the pool whose master is `masterAddress`. The password is read from stdin
 * (the first line after sudo's), so it is never on a command line, in a log or in dry-run text.
 */
export const poolJoin = (masterAddress: string, masterUser: string): RemoteCommand =>
  cmd('sh', '-c', 'IFS= read -r p; exec xe pool-join master-address="$1" master-username="$2" master-password="$p"', 'sh', masterAddress, masterUser)

// ---- MPI --------------------------------------------------------------------------------------

export const mpiVersion = (): RemoteCommand => cmd('mpirun', '--version')
export const nprocOnline = (): RemoteCommand => cmd('nproc')

// ---- NFS --------------------------------------------------------------------------------------

/** Prints `kernel` when the kernel can serve NFS (nfsd loaded or loadable), else `none`. */
export const kernelNfsd = (): RemoteCommand =>
  cmd('sh', '-c', 'if grep -qw nfsd /proc/filesystems 2>/dev/null || modprobe -n -q nfsd 2>/dev/null; then echo kernel; else echo none; fi')

/** Prints `kernel` when the kernel has an NFS client (nfs loaded or loadable), else `none`. */
export const kernelNfsClient = (): RemoteCommand =>
  cmd('sh', '-c', 'if grep -qw nfs /proc/filesystems 2>/dev/null || modprobe -n -q nfs 2>/dev/null; then echo kernel; else echo none; fi')

/** Prints the file, or nothing when it does not exist. */
export const readFileIfPresent = (path: string): RemoteCommand => cmd('sh', '-c', 'cat -- "$1" 2>/dev/null; true', 'sh', path)

/** Writes stdin to `path` (whole file), creating its directory. */
export const writeFileFromStdin = (path: string): RemoteCommand => cmd('sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && cat >"$1"', 'sh', path)

export const mkdirP = (path: string): RemoteCommand => cmd('mkdir', '-p', '--', path)
export const exportfsReload = (): RemoteCommand => cmd('exportfs', '-ra')
export const exportfsList = (): RemoteCommand => cmd('exportfs', '-v')
/** Exit 0 when kernel nfsd has threads running and rpc.mountd (which answers its export look-ups) runs. */
export const kernelNfsdRunning = (): RemoteCommand =>
  cmd('sh', '-c', 'n=$(cat /proc/fs/nfsd/threads 2>/dev/null); [ "${n:-0}" -gt 0 ] && pgrep -x rpc.mountd >/dev/null')

/**
 * Starts kernel nfsd unless it runs: through systemd where PID 1 is systemd; else (a host without an
 * init system that starts it, the Xen lab's dom0) the pieces nfs-kernel-server's unit would start:
 * the nfsd file system, rpcbind, rpc.mountd, then the threads. The NFSv4 grace period drops to its
 * 10 s minimum first: a lab server has no clients reclaiming state, and for the default 90 s every
 * new open waits (the same reason MigLab's Ganesha export is graceless).
 */
export const kernelNfsdStart = (): RemoteCommand =>
  cmd(
    'sh',
    '-c',
    `if [ -d /run/systemd/system ]; then exec systemctl start nfs-server; fi
n=$(cat /proc/fs/nfsd/threads 2>/dev/null); [ "\${n:-0}" -gt 0 ] && pgrep -x rpc.mountd >/dev/null && exit 0
grep -qw nfsd /proc/filesystems || modprobe nfsd || exit 1
mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd || exit 1
rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || rpcbind -w || exit 1
if [ "\${n:-0}" -eq 0 ]; then echo 10 >/proc/fs/nfsd/nfsv4gracetime; echo 10 >/proc/fs/nfsd/nfsv4leasetime; fi
pgrep -x rpc.mountd >/dev/null || rpc.mountd || exit 1
[ "\${n:-0}" -gt 0 ] || rpc.nfsd 8`,
  )
/** Shell: the ganesha.nfsd pids in this shell's network namespace (a demo-lab node shares the pid space). */
const GANESHA_HERE = 'me=$(readlink /proc/self/ns/net); for p in $(pgrep -x ganesha.nfsd); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && echo "$p"; done'

/**
 * (Re)starts NFS-Ganesha: through systemd where PID 1 is systemd; else (a container, the demo lab)
 * stops the daemon of this network namespace, starts rpcbind here if none answers (NFSv3 clients
 * find mountd through it) and starts ganesha.nfsd itself. Waits until NFSv3 answers over rpcbind.
 */
export const ganeshaRestart = (config: string): RemoteCommand =>
  cmd(
    'sh',
    '-c',
    `if [ -d /run/systemd/system ]; then systemctl restart nfs-ganesha || exit 1
else
  old=$(${GANESHA_HERE}); [ -z "$old" ] || kill $old
  for i in $(seq 50); do [ -z "$(${GANESHA_HERE})" ] && break; sleep 0.1; done
  rpcinfo -p 127.0.0.1 >/dev/null 2>&1 || rpcbind -w || exit 1
  mkdir -p /var/run/ganesha /var/lib/nfs/ganesha /var/log/ganesha && ganesha.nfsd -f "$1" -L /var/log/ganesha/ganesha.log -p /var/run/ganesha/ganesha.pid || exit 1
fi
for i in $(seq 100); do rpcinfo -t 127.0.0.1 nfs 3 >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "NFS-Ganesha started but NFSv3 does not answer on 127.0.0.1 after 10 s; /var/log/ganesha/ganesha.log ends:" >&2
tail -n 8 /var/log/ganesha/ganesha.log >&2; exit 1`,
    'sh',
    config,
  )
/** Prints the pid of NFS-Ganesha in this network namespace; exit 0 only when it runs and NFSv3 answers. */
export const ganeshaRunning = (): RemoteCommand => cmd('sh', '-c', `p=$(${GANESHA_HERE}); [ -n "$p" ] && echo "$p" && rpcinfo -t 127.0.0.1 nfs 3 >/dev/null 2>&1`)
/** Exit 0 when the main config includes `included` (an `%include "<path>"` line). */
export const configIncludes = (config: string, included: string): RemoteCommand => cmd('grep', '-qxF', `%include "${included}"`, config)
/** Appends `%include "<path>"` to the main config unless it is there. */
export const addInclude = (config: string, included: string): RemoteCommand =>
  cmd('sh', '-c', `l=$(printf '%%include "%s"' "$2"); touch "$1" && { grep -qxF "$l" "$1" || printf '%s\\n' "$l" >>"$1"; }`, 'sh', config, included)

/** Lists an export through user-space NFS (libnfs): works where the kernel has no NFS client. */
export const libnfsList = (url: string): RemoteCommand => cmd('nfs-ls', url)
/** Writes `bytes` random bytes to `path` and prints its sha256. */
export const writeRandomFile = (path: string, bytes: number): RemoteCommand =>
  cmd('sh', '-c', 'head -c "$2" /dev/urandom >"$1" && sha256sum <"$1"', 'sh', path, bytes)
/** Reads a file over user-space NFS and prints its sha256 and the seconds it took. */
export const libnfsChecksum = (url: string): RemoteCommand =>
  cmd('sh', '-c', 's=$(date +%s.%N); h=$(nfs-cat "$1" | sha256sum); e=$(date +%s.%N); echo "$h"; echo "seconds $s $e"', 'sh', url)
/** Reads a file (a kernel NFS mount) and prints its sha256 and the seconds it took. */
export const fileChecksum = (path: string): RemoteCommand =>
  cmd('sh', '-c', 's=$(date +%s.%N); h=$(sha256sum <"$1"); e=$(date +%s.%N); echo "$h"; echo "seconds $s $e"', 'sh', path)
export const sha256 = (path: string): RemoteCommand => cmd('sh', '-c', 'sha256sum <"$1" 2>/dev/null; true', 'sh', path)
export const isMountpoint = (path: string): RemoteCommand => cmd('findmnt', '-n', '-o', 'SOURCE', '--', path)
export const nfsMount = (source: string, path: string): RemoteCommand => and(mkdirP(path), cmd('mount', '-t', 'nfs', '--', source, path))
/** Exit 0 when both paths are one directory (same device and inode): a bind mount, or the same path. */
export const sameDirectory = (a: string, b: string): RemoteCommand => cmd('sh', '-c', 'x=$(stat -L -c %d:%i -- "$1") && y=$(stat -L -c %d:%i -- "$2") && [ "$x" = "$y" ]', 'sh', a, b)
export const bindMount = (source: string, path: string): RemoteCommand => and(mkdirP(path), cmd('mount', '--bind', '--', source, path))
