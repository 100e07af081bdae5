import { cmd, withEnv, type RemoteCommand } from './command'

/**
 * Remote commands of the MPI ping-pong benchmark. The benchmark lives in $HOME/.miglab/mpi next to
 * the hostfile and rankfile; its binary is named after its source's hash, so a changed source is
 * compiled again. Scripts are constants; values are positional arguments.
 */

/** Exit 0 when the benchmark binary built from source `sha` is there. */
export const pingPongBuilt = (sha: string): RemoteCommand => cmd('sh', '-c', 'test -x "$HOME/.miglab/mpi/pingpong-$1"', 'sh', sha)

/** Writes the C source on stdin next to the MPI files and compiles it with mpicc. */
export const buildPingPong = (sha: string): RemoteCommand =>
  cmd('sh', '-c', 'd="$HOME/.miglab/mpi"; mkdir -p "$d" && cat >"$d/pingpong-$1.c" && mpicc -O2 -o "$d/pingpong-$1" "$d/pingpong-$1.c"', 'sh', sha)

/** Prints the address/prefix of the local interface that routes to `host` (e.g. 198.18.0.11/24). */
export const routeCidr = (host: string): RemoteCommand =>
  cmd(
    'sh',
    '-c',
    `ip=$(getent ahostsv4 "$1" | awk 'NR==1{print $1}'); [ -n "$ip" ] || exit 3
dev=$(ip -o -4 route get "$ip" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); [ -n "$dev" ] || exit 4
ip -o -4 addr show dev "$dev" | awk 'NR==1{print $4}'`,
    'sh',
    host,
  )

/** The head node's last benchmark output (a header line, then the benchmark's), or nothing. */
export const readPingPong = (): RemoteCommand => cmd('sh', '-c', 'cat "$HOME/.miglab/mpi/pingpong.out" 2>/dev/null; true')

/**
 * Runs the benchmark from the head node: one rank per node as the hostfile and rankfile place them
 * (distinct cores), TCP only and only on the lab subnet (`btl_tcp_if_include`/`oob_tcp_if_include`),
 * so MPI never picks shared memory or another network. The output is kept on success only.
 */
export function runPingPong(a: { sha: string; subnet: string; ranks: number; sshPort?: number; root: boolean }): RemoteCommand {
  const script = `d="$HOME/.miglab/mpi"; {
echo "# miglab-pingpong sha=$1 subnet=$2 at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
mpirun --hostfile "$d/hostfile" --rankfile "$d/rankfile" -np "$3" --mca btl self,tcp --mca pml ob1 --mca btl_tcp_if_include "$2" --mca oob_tcp_if_include "$2" \${4:+--mca plm_rsh_args "-p $4"} "$d/pingpong-$1"
} >"$d/pingpong.tmp" && mv "$d/pingpong.tmp" "$d/pingpong.out" && cat "$d/pingpong.out"`
  const run = cmd('sh', '-c', script, 'sh', a.sha, a.subnet, a.ranks, a.sshPort && a.sshPort !== 22 ? a.sshPort : '')
  // Open MPI refuses root unless told twice; only said when the node user is root.
  return a.root ? withEnv({ OMPI_ALLOW_RUN_AS_ROOT: 1, OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: 1 }, run) : run
}
