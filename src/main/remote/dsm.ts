import { cmd, type RemoteCommand } from './command'

/**
 * Remote commands of MigLab's DSM runtime (resources/dsm/miglab-dsm.c): built on each node with
 * mpicc under ~/.miglab/dsm, launched with mpirun, one rank per node. Scripts are constants; every
 * value is a quoted positional argument.
 */

/** Prints the sha256 of the source the node's runtime was built from; nothing when it has none (or no mpicc/mpirun). */
export const dsmRuntimeStatus = (): RemoteCommand =>
  cmd('sh', '-c', 'd="$HOME/.miglab/dsm"; command -v mpirun >/dev/null || { echo no-mpi; exit 0; }; [ -x "$d/miglab-dsm" ] && cat "$d/built-from.sha256" 2>/dev/null; true')

// Source on stdin; compiled beside, then moved into place, so a node sharing the folder with
// another (the demo lab's nodes share this machine's home) never sees a half-written binary.
const BUILD = `set -e; d="$HOME/.miglab/dsm"; mkdir -p "$d"; t="$d/.build.$$"
cat >"$t.c"; mpicc -O2 -pthread -o "$t" "$t.c"
mv "$t.c" "$d/miglab-dsm.c"; mv "$t" "$d/miglab-dsm"; printf '%s\\n' "$1" >"$d/built-from.sha256"`

/** Builds the runtime from the source on stdin; `sha256` of that source is recorded beside it. */
export const buildDsmRuntime = (sha256: string): RemoteCommand => cmd('sh', '-c', BUILD, 'sh', sha256)

// --bind-to none: Open MPI binds both ranks to core 0 by default when the nodes share a machine (the
// demo lab), which costs ms per message. TCP only, on the lab subnet only; ssh with pinned host keys.
const RUN = `root=; [ "$(id -u)" = 0 ] && root=--allow-run-as-root
exec mpirun $root -np 2 --host "$1:1,$2:1" --bind-to none --mca pml ob1 --mca btl self,tcp \\
  --mca btl_tcp_if_include "$3" --mca oob_tcp_if_include "$3" \\
  --mca plm_rsh_args "-o BatchMode=yes -o StrictHostKeyChecking=yes" \\
  "$HOME/.miglab/dsm/miglab-dsm" "$4" "$5" "$6"`

/**
 * The runtime across two nodes: rank 0 on `source` maps `sourceFile`, rank 1 on `destination` keeps
 * `replicaFile`. Commands go to its stdin (final, skip, cancel), progress comes as JSON lines on stdout.
 */
export const runDsmRuntime = (a: { source: string; destination: string; subnet: string; sourceFile: string; replicaFile: string; pauseMs: number }): RemoteCommand =>
  cmd('sh', '-c', RUN, 'sh', a.source, a.destination, a.subnet, a.sourceFile, a.replicaFile, a.pauseMs)

/** `ADDR/LEN` of every IPv4 address of the node, one per line (to find the lab subnet of its address). */
export const ipv4Addresses = (): RemoteCommand => cmd('sh', '-c', "ip -o -4 addr show | awk '{print $4}'")

/** From this node, an ssh to `host` that must succeed with a key and a pinned host key (as mpirun's own ssh). */
export const sshReach = (host: string): RemoteCommand =>
  cmd('ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', host, 'true')
