import { z } from 'zod'
import type { LabNode, NodeConnection, PreflightReport, SshConfigCandidate, TrustedHostKey } from '../domain'
import { id, labName } from './app'

/**
 * Contract of lab nodes over SSH. Connecting to a host whose key MigLab has never seen fails with
 * 'host_key_unknown' (detail: host, port, algorithm, fingerprint); after the user accepts,
 * `hostKeys.trust` pins exactly that fingerprint and the UI connects again. A changed key fails with
 * 'host_key_changed' (detail: oldFingerprint, newFingerprint) until `hostKeys.replace`.
 */
/** Node names follow the same rule as lab names. */
export const nodeName = labName
// Host names and IP literals only: no user@, no spaces, no option-like leading dash.
export const hostName = z
  .string()
  .trim()
  .min(1, 'a host is required')
  .max(253)
  .regex(/^[A-Za-z0-9_.:%[\]-]+$/, 'a host name or IP address')
  .refine((h) => !h.startsWith('-'), 'must not start with a dash')
export const port = z.number().int().min(1).max(65535)
export const userName = z
  .string()
  .trim()
  .min(1, 'a user is required')
  .max(64)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, 'a Unix user name')
export const fingerprint = z.string().max(64).regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'SHA256:… as ssh-keygen -lf prints it')
const secret = z.string().min(1).max(4096)
/** A file on this machine: no control characters (a newline or NUL in a path is never a real key file). */
const filePath = z.string().min(1).max(4096).regex(/^[^\p{Cc}]*$/u, 'no control characters (newlines, escapes, tabs)')

/** Secrets (password, passphrase) go to the in-memory secret store only, never to the database. */
export const nodeAuth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), keyPath: filePath, passphrase: secret.optional() }).strict(),
  z.object({ kind: z.literal('agent') }).strict(),
  z.object({ kind: z.literal('password'), password: secret }).strict(),
])

export const nodeInputs = {
  /** `jumpHost` is the name of another node of the same lab to hop through. */
  'nodes.add': z
    .object({ labId: id, name: nodeName, host: hostName, port: port.default(22), user: userName, auth: nodeAuth, jumpHost: nodeName.optional() })
    .strict(),
  /** Omitted fields stay; `jumpHost: null` removes the jump host. Changing settings drops the connection. */
  'nodes.update': z
    .object({
      nodeId: id,
      name: nodeName.optional(),
      host: hostName.optional(),
      port: port.optional(),
      user: userName.optional(),
      auth: nodeAuth.optional(),
      jumpHost: nodeName.nullable().optional(),
    })
    .strict(),
  'nodes.remove': z.object({ nodeId: id }).strict(),
  /** Default path: ~/.ssh/config of the user running MigLab. */
  'nodes.importSshConfig': z.object({ path: filePath.optional() }).strict(),
  'nodes.connect': z.object({ nodeId: id }).strict(),
  'nodes.preflight': z.object({ nodeId: id }).strict(),
  'hostKeys.trust': z.object({ host: hostName, port, fingerprint }).strict(),
  'hostKeys.replace': z.object({ host: hostName, port, fingerprint }).strict(),
} as const

export interface NodeResults {
  'nodes.add': LabNode
  'nodes.update': LabNode
  'nodes.remove': { removed: boolean }
  'nodes.importSshConfig': SshConfigCandidate[]
  'nodes.connect': NodeConnection
  'nodes.preflight': PreflightReport
  'hostKeys.trust': TrustedHostKey
  'hostKeys.replace': TrustedHostKey
}
