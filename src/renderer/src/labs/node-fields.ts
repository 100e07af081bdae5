import type { FieldLabels } from '../ErrorBox'

/** The node forms' words for the contract's fields (add-node form and node editor). */
export const NODE_FIELDS: FieldLabels = {
  name: 'Name',
  host: 'Host',
  port: 'Port',
  user: 'User',
  auth: 'Sign in with',
  'auth.keyPath': 'Private key file',
  'auth.passphrase': 'Passphrase',
  'auth.password': 'Password',
  jumpHost: 'Jump host',
}
