import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import SSHConfig from 'ssh-config'
import type { SshConfigCandidate } from '../../shared/domain'
import { expandHome } from './paths'
import { readUserFile } from './user-file'

const WILDCARD = /[*?!]/

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v)

/**
 * Hosts from an OpenSSH client config, resolved as `ssh` would (first value wins, `Host *`
 * defaults apply). Pattern-only entries are skipped: they name no machine. `Match exec` is never
 * evaluated, because a config file must not run commands just by being imported.
 */
export function importSshConfig(path = join(homedir(), '.ssh', 'config')): SshConfigCandidate[] {
  const file = expandHome(path)
  const text = readUserFile(file, { code: 'ssh_config_unreadable', what: 'an SSH config' }).toString('utf8')
  const config = SSHConfig.parse(text)
  const aliases: string[] = []
  for (const line of config) {
    if (line.type !== SSHConfig.DIRECTIVE || line.param.toLowerCase() !== 'host') continue
    const values = typeof line.value === 'string' ? [line.value] : line.value.map((v) => v.val)
    for (const alias of values) if (!WILDCARD.test(alias) && !aliases.includes(alias)) aliases.push(alias)
  }
  const me = userInfo().username
  return aliases.map((alias) => {
    const c = config.compute(alias, { ignoreCase: true, matchExec: false })
    const identity = first(c.identityfile)
    const jump = first(c.proxyjump)
    const port = Number(first(c.port) ?? 22)
    return {
      name: alias,
      host: first(c.hostname) ?? alias,
      port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22,
      user: first(c.user) ?? me,
      ...(identity ? { keyPath: expandHome(identity) } : {}),
      ...(jump && jump.toLowerCase() !== 'none' ? { jumpHost: jump } : {}),
    }
  })
}
