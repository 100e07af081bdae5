import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MigLabError } from '../../../shared/errors'

export interface AptSource {
  uri: string
  suites: string[]
  components: string[]
}

/** `deb [options] URI SUITE COMPONENT…` lines (sources.list format); deb-src and comments ignored. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim()
    const [type, uri, suite, ...components] = line.split(/\s+/)
    if (type === 'deb' && uri && suite) out.push({ uri, suites: [suite], components })
  }
  return out
}

/** deb822 `.sources` stanzas (Types/URIs/Suites/Components); a stanza with `Enabled: no` is skipped. */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = []
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>()
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line.replace(/#.*/, '').trimEnd())
      if (m) fields.set(m[1].toLowerCase(), m[2].trim())
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean)
    if (!words('types').includes('deb') || fields.get('enabled')?.toLowerCase() === 'no') continue
    for (const uri of words('uris')) out.push({ uri, suites: words('suites'), components: words('components') })
  }
  return out
}

/** Every apt source this machine uses: /etc/apt/sources.list and the enabled files of sources.list.d. */
export function readAptSources(root = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = []
  const main = join(root, 'sources.list')
  if (existsSync(main)) sources.push(...parseOneLine(readFileSync(main, 'utf8')))
  const dir = join(root, 'sources.list.d')
  const files = existsSync(dir) ? readdirSync(dir).sort() : []
  for (const f of files) {
    if (f.endsWith('.list')) sources.push(...parseOneLine(readFileSync(join(dir, f), 'utf8')))
    else if (f.endsWith('.sources')) sources.push(...parseDeb822(readFileSync(join(dir, f), 'utf8')))
  }
  return sources
}

/** The Debian mirror this machine already uses for `suite` with the main component: debootstrap fetches from it. */
export function debianMirror(sources: AptSource[], suite: string): string {
  const found = sources.find((s) => s.suites.includes(suite) && s.components.includes('main'))
  if (!found) {
    throw new MigLabError('xen_lab_no_mirror', `None of this machine's apt sources serves Debian ${suite} (main), which the Xen lab's dom0 image is built from.`, {
      hint: `Add a Debian ${suite} mirror to /etc/apt/sources.list.d/, e.g. "deb <your mirror>/debian ${suite} main", and run apt-get update.`,
    })
  }
  return found.uri.replace(/\/+$/, '')
}
