import { createHash } from 'node:crypto'

/** `SHA256:<base64, no padding>` of a public key blob — byte for byte what `ssh-keygen -lf` prints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function algorithmOf(keyBlob: Buffer): string {
  const len = keyBlob.readUInt32BE(0)
  return keyBlob.subarray(4, 4 + len).toString('ascii')
}
