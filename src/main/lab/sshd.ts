import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigLabError } from '../../shared/errors'
import { algorithmOf, fingerprintOf } from '../ssh/fingerprint'
import { run, spawnDaemon } from './exec'
import type { NodePlan } from './plan'
import { commandLineOf, inNetns, isRunning, killAll, readPidFile } from './processes'
import type { LabPaths } from './state'

/** An ed25519 key pair made by ssh-keygen, unless `path` already holds one. */
export async function ensureKeyPair(sshKeygen: string, path: string, comment: string): Promise<void> {
  if (existsSync(path) && existsSync(`${path}.pub`)) return
  await run([sshKeygen, '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path])
}

export interface PublicKey {
  algorithm: string
  fingerprint: string
  /** Base64 of the key blob, as HostKeysRepo stores it. */
  key: string
}

/** Reads an OpenSSH `.pub` file: `<type> <base64 blob> [comment]`. */
export function readPublicKey(pubPath: string): PublicKey {
  const key = readFileSync(pubPath, 'utf8').trim().split(/\s+/)[1] ?? ''
  const blob = Buffer.from(key, 'base64')
  return { algorithm: algorithmOf(blob), fingerprint: fingerprintOf(blob), key }
}

export const authorizedKeysFile = (paths: LabPaths): string => `${paths.clientKey}.pub`
export const hostKeyFile = (paths: LabPaths, node: NodePlan): string => join(paths.nodeDir(node.name), 'ssh_host_ed25519_key')
const configFile = (paths: LabPaths, node: NodePlan) => join(paths.nodeDir(node.name), 'sshd_config')
const pidFile = (paths: LabPaths, node: NodePlan) => join(paths.nodeDir(node.name), 'sshd.pid')
const logFile = (paths: LabPaths, node: NodePlan) => join(paths.nodeDir(node.name), 'sshd.log')
/**
 * The node's own ~root/.ssh (keys, authorized_keys, known_hosts) and ~root/.miglab (what wizards
 * build there), bound over this machine's inside the node, as separate machines would have them.
 */
export const nodeSshDir = (paths: LabPaths, node: NodePlan): string => join(paths.nodeDir(node.name), 'dot-ssh')
export const nodeMiglabDir = (paths: LabPaths, node: NodePlan): string => join(paths.nodeDir(node.name), 'dot-miglab')

const q = (path: string) => `"${path}"`

/** One sshd per node: its own host key, address and pid file; key login as root only. */
export function sshdConfig(paths: LabPaths, node: NodePlan): string {
  return [
    `# MigLab demo lab node ${node.name}. Generated: \`miglab lab up\` rewrites it.`,
    // A changed line restarts sshd on \`lab up\`, so a node started before this layout gets it.
    `# Own ~root/.ssh and ~root/.miglab: ${nodeSshDir(paths, node)}, ${nodeMiglabDir(paths, node)}`,
    `ListenAddress ${node.ip}:22`,
    `HostKey ${q(hostKeyFile(paths, node))}`,
    `PidFile ${q(pidFile(paths, node))}`,
    // The lab's key for MigLab; the node's own list for keys other nodes authorise (the MPI wizard's).
    `AuthorizedKeysFile ${q(authorizedKeysFile(paths))} .ssh/authorized_keys`,
    `# Guest RAM folder private to this node (a tmpfs in its mount namespace): ${paths.ramDir}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The keys live under the data dir, which may be /tmp: sshd's ownership checks would refuse them.
    'StrictModes no',
    'AcceptEnv LANG LC_* OMPI_*',
    'Subsystem sftp internal-sftp',
    'PrintMotd no',
    '',
  ].join('\n')
}

/**
 * The node's sshd pid if it is ours and alive (the pid file could name a recycled pid). sshd retitles
 * itself (`sshd: /usr/sbin/sshd -D -e -f <config> [listener]…`), so the config path is matched inside.
 */
export function runningSshd(paths: LabPaths, node: NodePlan): number | undefined {
  const pid = readPidFile(pidFile(paths, node))
  return pid && isRunning(pid) && commandLineOf(pid).join(' ').includes(configFile(paths, node)) ? pid : undefined
}

/** Writes the node's config and host key, then starts its sshd unless one is already running. */
export async function ensureSshd(paths: LabPaths, node: NodePlan, tools: { sshd: string; 'ssh-keygen': string }): Promise<{ started: boolean }> {
  mkdirSync(paths.nodeDir(node.name), { recursive: true })
  mkdirSync(nodeSshDir(paths, node), { recursive: true, mode: 0o700 })
  mkdirSync(nodeMiglabDir(paths, node), { recursive: true, mode: 0o700 })
  await ensureKeyPair(tools['ssh-keygen'], hostKeyFile(paths, node), `${node.name} host key`)
  const config = sshdConfig(paths, node)
  const configChanged = !existsSync(configFile(paths, node)) || readFileSync(configFile(paths, node), 'utf8') !== config
  writeFileSync(configFile(paths, node), config)
  const pid = runningSshd(paths, node)
  // A daemon left in a namespace that was deleted and recreated answers no one: restart it.
  if (pid && !configChanged && inNetns(pid, node.namespace)) return { started: false }
  if (pid) await killAll([pid])
  mkdirSync('/run/sshd', { recursive: true }) // sshd's privilege-separation directory
  // unshare --uts gives each node its own hostname, --mount its own view of files (private
  // propagation: nothing mounted there reaches this machine or another node): this machine's
  // ~root/.bashrc is hidden (bash sources it for every SSH command; a pyenv init in it cost ~300 ms
  // per command); ~root/.ssh and ~root/.miglab are the node's own, as separate machines would have
  // them (a wizard's SSH trust and builds never touch this machine's root files); and a fresh tmpfs
  // over the lab's RAM folder is the node's own memory for guest RAM. The script is constant, the
  // values its arguments.
  const launched = await spawnDaemon(
    ['ip', 'netns', 'exec', node.namespace, 'unshare', '--uts', '--mount', '--propagation', 'private', 'sh', '-c', NODE_INIT, 'miglab-node', node.name, tools.sshd, configFile(paths, node), paths.ramDir, nodeSshDir(paths, node), nodeMiglabDir(paths, node)],
    logFile(paths, node),
  )
  writeFileSync(pidFile(paths, node), `${launched}\n`)
  return { started: true }
}

const NODE_INIT = `for f in ~root/.bashrc; do [ -f "$f" ] && mount --bind /dev/null "$f"; done
mount -t tmpfs -o mode=0700 miglab-node-ram "$4" || exit 1
mkdir -p -m 700 ~root/.ssh ~root/.miglab && mount --bind "$5" ~root/.ssh && mount --bind "$6" ~root/.miglab || exit 1
hostname "$1" && exec "$2" -D -e -f "$3"`

/** Throws with sshd's own log when the node's daemon died right after starting. */
export function assertSshdAlive(paths: LabPaths, node: NodePlan): void {
  if (runningSshd(paths, node)) return
  const log = existsSync(logFile(paths, node)) ? readFileSync(logFile(paths, node), 'utf8') : ''
  throw new MigLabError('demo_lab_sshd_failed', `sshd of ${node.name} is not running.`, {
    command: `sshd -D -e -f ${configFile(paths, node)}`,
    stderrTail: log.trimEnd().split('\n').slice(-12).join('\n'),
    hint: `Check ${logFile(paths, node)}; \`miglab lab up --demo\` restarts it.`,
  })
}
