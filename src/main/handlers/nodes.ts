import type { ParsedInput } from '../../shared/api'
import type { NodeResults } from '../../shared/contract/nodes'
import type { LabNode, NodeAuth, TrustedHostKey } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { runPreflight } from '../preflight/run'
import type { Services } from '../services'
import type { SecretStore } from '../ssh/secrets'
import { importSshConfig } from '../ssh/ssh-config-import'
import { expandHome } from '../ssh/paths'
import { nodeKey } from '../ssh/targets'
import { readUserFileIfPresent } from '../ssh/user-file'
import type { TrustedKey } from '../store/hostkeys'

type NodeHandlers = { [M in keyof NodeResults]: (input: ParsedInput<M>) => Promise<NodeResults[M]> }
type AuthInput = ParsedInput<'nodes.add'>['auth']

/**
 * A key path is checked when it is entered (a FIFO, a device, a symlink, a huge file or this
 * machine's host key is refused at once); a key that does not exist yet is accepted, and the
 * same check runs again at every login.
 */
function checkKeyPath(auth: AuthInput | undefined): void {
  if (auth?.kind !== 'key') return
  readUserFileIfPresent(expandHome(auth.keyPath), { code: 'key_unreadable', what: 'a private key', hint: 'Change the key path.' })
}

/** What the database may hold: the kind and key path, never the password or passphrase. */
const publicAuth = (auth: AuthInput): NodeAuth => (auth.kind === 'key' ? { kind: 'key', keyPath: auth.keyPath } : { kind: auth.kind })

/** The secrets go to the store (replacing the node's old ones), keyed by the node's id. */
function saveSecrets(secrets: SecretStore, key: string, auth: AuthInput): void {
  secrets.delete(key)
  if (auth.kind === 'password') secrets.set(key, 'password', auth.password)
  if (auth.kind === 'key' && auth.passphrase !== undefined) secrets.set(key, 'passphrase', auth.passphrase)
}

/** Same host, port, user and way of signing in: a stored secret still belongs to it. */
const sameAccount = (a: LabNode, b: LabNode): boolean =>
  a.host === b.host && a.port === b.port && a.user === b.user && JSON.stringify(a.auth) === JSON.stringify(b.auth) && a.jumpHost === b.jumpHost

const publicKey = ({ host, port, algorithm, fingerprint, trustedAt }: TrustedKey): TrustedHostKey => ({ host, port, algorithm, fingerprint, trustedAt })

export function nodeHandlers(s: Services): NodeHandlers {
  const checkJump = (labId: number, name: string, jumpHost: string | undefined): void => {
    if (jumpHost === undefined) return
    if (jumpHost === name) throw new MigLabError('invalid_jump_host', 'A node cannot be its own jump host.')
    if (!s.nodes.byName(labId, jumpHost)) {
      throw new MigLabError('node_not_found', `The jump host "${jumpHost}" is not a node of this lab.`, { hint: 'Add the jump host as a node first.' })
    }
  }
  /** The node's connection and those of nodes that hop through it (they tunnel over it). */
  const closeConnections = async (node: LabNode): Promise<void> => {
    const through = s.labs.get(node.labId)?.nodes.filter((n) => n.jumpHost === node.name) ?? []
    await Promise.all([node, ...through].map((n) => s.ssh.disconnect(nodeKey(n.id))))
  }
  const changed = (node: LabNode): LabNode => {
    s.bus.emit({ type: 'labs.changed' })
    return node
  }

  return {
    'nodes.add': async ({ labId, name, host, port, user, auth, jumpHost }) => {
      s.labs.require(labId)
      checkJump(labId, name, jumpHost)
      checkKeyPath(auth)
      const node = s.nodes.add(labId, { name, host, port, user, auth: publicAuth(auth), ...(jumpHost ? { jumpHost } : {}) })
      saveSecrets(s.secrets, nodeKey(node.id), auth)
      return changed(node)
    },
    'nodes.update': async ({ nodeId, auth, jumpHost, ...fields }) => {
      const cur = s.nodes.require(nodeId)
      const name = fields.name ?? cur.name
      const jump = jumpHost === null ? undefined : (jumpHost ?? cur.jumpHost)
      checkJump(cur.labId, name, jump)
      checkKeyPath(auth)
      const key = nodeKey(nodeId)
      const node = s.nodes.update(nodeId, {
        name,
        host: fields.host ?? cur.host,
        port: fields.port ?? cur.port,
        user: fields.user ?? cur.user,
        auth: auth ? publicAuth(auth) : cur.auth,
        ...(jump ? { jumpHost: jump } : {}),
      })
      // A password or passphrase belongs to the account and key it was entered for: sent to a
      // changed host, user or key it could leak. New settings without a new secret drop the old one.
      if (auth) saveSecrets(s.secrets, key, auth)
      else if (!sameAccount(cur, node)) s.secrets.delete(key)
      // The database already holds the new settings, so no dial from here on uses the old ones.
      await closeConnections(cur)
      return changed(node)
    },
    'nodes.remove': async ({ nodeId }) => {
      const node = s.nodes.get(nodeId)
      if (!node) return { removed: false }
      const lab = s.labs.get(node.labId)
      const via = lab?.nodes.find((n) => n.jumpHost === node.name)
      if (via) throw new MigLabError('node_in_use', `Node "${via.name}" uses "${node.name}" as its jump host.`, { hint: `Change the jump host of "${via.name}" first.` })
      const key = nodeKey(nodeId)
      // Row first, so no call that starts meanwhile can dial the node again; then its secrets and
      // its live connection (with every shell and command on it).
      const removed = s.nodes.remove(nodeId)
      s.secrets.delete(key)
      await s.ssh.disconnect(key)
      s.bus.emit({ type: 'labs.changed' })
      return { removed }
    },
    'nodes.importSshConfig': async ({ path }) => importSshConfig(path),
    'nodes.connect': async ({ nodeId }) => {
      s.nodes.require(nodeId)
      return { nodeId, ...(await s.ssh.connect(nodeKey(nodeId))) }
    },
    'nodes.preflight': async ({ nodeId }) => {
      s.nodes.require(nodeId)
      const { facts, checks } = await runPreflight(s.ssh, nodeKey(nodeId))
      const at = new Date().toISOString()
      s.nodes.setPreflight(nodeId, at, checks, facts)
      s.bus.emit({ type: 'labs.changed' })
      return { nodeId, at, checks, facts }
    },
    'hostKeys.trust': async ({ host, port, fingerprint }) => publicKey(s.hostTrust.trust(host, port, fingerprint)),
    'hostKeys.replace': async ({ host, port, fingerprint }) => publicKey(s.hostTrust.replace(host, port, fingerprint)),
  }
}
