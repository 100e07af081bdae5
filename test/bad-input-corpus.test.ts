import { spawn } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Core } from '../src/main/core'
import { createCore } from '../src/main/core'
import { dispatch } from '../src/main/doors/dispatch'
import type { ApiError } from '../src/shared/errors'
import { tempDir } from './helpers'

/**
 * Hostile and malformed input through the contract (as every door dispatches it) and through the
 * CLI as a user types it. Each case must be answered with a clear error — a code, a sentence, what
 * to do — and nothing may run: every `PWNED` below becomes a marker file that must never appear.
 */

const MARK = `/tmp/PWNED-corpus-${process.pid}`
const marker = (n: number | string) => `${MARK}-${n}`
/** Replaces PWNED in every string of a value with this case's marker path. */
const armed = (v: unknown, n: number | string): unknown =>
  typeof v === 'string' ? v.replaceAll('PWNED', marker(n)) : Array.isArray(v) ? v.map((x) => armed(x, n)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, armed(x, n)])) : v

const long = (n: number) => 'a'.repeat(n)
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

let core: Core
const dataDir = tempDir()
let labId = 0

beforeAll(async () => {
  core = createCore({ dataDir, door: 'browser' })
  labId = (await core.handlers['labs.create']({ name: 'corpus', description: '', hypervisor: 'qemu' })).id
  // TEST-NET addresses: never contacted — every case is refused before any connection.
  for (const [name, host] of [['n1', '192.0.2.1'], ['n2', '192.0.2.2']]) {
    await core.handlers['nodes.add']({ labId, name, host, port: 22, user: 'root', auth: { kind: 'agent' } })
  }
})
afterAll(async () => {
  await core.close()
  rmSync(dataDir, { recursive: true, force: true })
  for (const f of readdirSync('/tmp').filter((f) => f.startsWith(`PWNED-corpus-${process.pid}`))) rmSync(join('/tmp', f), { force: true })
})

/** A clear error: a code for programs, a sentence for people, and what to do about it. */
function expectClear(e: ApiError | undefined, code: string | RegExp, field?: string): void {
  expect(e, 'an error').toBeDefined()
  if (typeof code === 'string') expect(e!.code).toBe(code)
  else expect(e!.code).toMatch(code)
  expect(e!.code).not.toBe('internal')
  expect(e!.message.length).toBeGreaterThan(10)
  expect(e!.message).toMatch(/[.!?]$/)
  expect(e!.message).not.toMatch(/Too big|Too small|Invalid input|expected \w+ to have|highlighted/)
  expect(e!.detail?.hint, 'what to do').toMatch(/\w{3}/)
  if (field) expect(e!.detail?.issues?.map((i) => i.path) ?? []).toContain(field)
}

// ── through the contract ──────────────────────────────────────────────────────────────────────────

type ContractCase = [what: string, method: string, input: () => unknown, code: string | RegExp, field?: string]
const node = (o: Record<string, unknown>) => () => ({ labId, name: 'new', host: '192.0.2.9', port: 22, user: 'root', auth: { kind: 'agent' }, ...o })
const exp = (o: Record<string, unknown>) => () => ({ labId, vm: 'guest', from: 'n1', to: 'n2', strategies: ['precopy'], workloads: [{ kind: 'idle' }], repetitions: 1, ...o })
const lab = (o: Record<string, unknown>) => () => ({ name: 'ok', ...o })

const contractCases: ContractCase[] = [
  ['lab: empty name', 'labs.create', lab({ name: '' }), 'invalid_input', 'name'],
  ['lab: 5000-character name', 'labs.create', lab({ name: long(5000) }), 'invalid_input', 'name'],
  ['lab: name with a newline', 'labs.create', lab({ name: 'a\nb' }), 'invalid_input', 'name'],
  ['lab: name with $(…)', 'labs.create', lab({ name: '$(touch PWNED)' }), 'invalid_input', 'name'],
  ['lab: name with backticks', 'labs.create', lab({ name: '`touch PWNED`' }), 'invalid_input', 'name'],
  ['lab: name with quotes and SQL', 'labs.create', lab({ name: "x'; DROP TABLE labs; --" }), 'invalid_input', 'name'],
  ['lab: path traversal as a name', 'labs.create', lab({ name: '../../etc/passwd' }), 'invalid_input', 'name'],
  ['lab: terminal escapes in the name', 'labs.create', lab({ name: '\u001b[2J\u001b[31mred' }), 'invalid_input', 'name'],
  ['lab: option-like name', 'labs.create', lab({ name: '-rf' }), 'invalid_input', 'name'],
  ['lab: NUL in the name', 'labs.create', lab({ name: 'lab\u0000' }), 'invalid_input', 'name'],
  ['lab: right-to-left override', 'labs.create', lab({ name: 'evil\u202etxt.sh' }), 'invalid_input', 'name'],
  ['lab: 2001-character description', 'labs.create', lab({ description: long(2001) }), 'invalid_input', 'description'],
  ['lab: unknown hypervisor', 'labs.create', lab({ hypervisor: 'vmware' }), 'invalid_input', 'hypervisor'],
  ['lab: unknown field', 'labs.create', lab({ admin: true }), 'invalid_input', 'admin'],
  ['lab: input is a list', 'labs.create', () => ['corpus'], 'invalid_input'],
  ['lab: the same name twice', 'labs.create', lab({ name: 'corpus' }), /exists/],
  ['host: option injection', 'nodes.add', node({ host: '-oProxyCommand=touch PWNED' }), 'invalid_input', 'host'],
  ['host: with a space', 'nodes.add', node({ host: 'a b' }), 'invalid_input', 'host'],
  ['host: user@host', 'nodes.add', node({ host: 'root@evil.example' }), 'invalid_input', 'host'],
  ['host: empty', 'nodes.add', node({ host: '' }), 'invalid_input', 'host'],
  ['host: 300 characters', 'nodes.add', node({ host: long(300) }), 'invalid_input', 'host'],
  ['host: $(…)', 'nodes.add', node({ host: '$(touch PWNED)' }), 'invalid_input', 'host'],
  ['host: ; command', 'nodes.add', node({ host: 'h;touch PWNED' }), 'invalid_input', 'host'],
  ['host: newline and ssh option', 'nodes.add', node({ host: 'h\nProxyCommand touch PWNED' }), 'invalid_input', 'host'],
  ['port: 0', 'nodes.add', node({ port: 0 }), 'invalid_input', 'port'],
  ['port: 70000', 'nodes.add', node({ port: 70000 }), 'invalid_input', 'port'],
  ['port: -1', 'nodes.add', node({ port: -1 }), 'invalid_input', 'port'],
  ['port: a string', 'nodes.add', node({ port: '22' }), 'invalid_input', 'port'],
  ['port: 22.5', 'nodes.add', node({ port: 22.5 }), 'invalid_input', 'port'],
  ['port: NaN', 'nodes.add', node({ port: NaN }), 'invalid_input', 'port'],
  ['user: ; command', 'nodes.add', node({ user: 'root;touch PWNED' }), 'invalid_input', 'user'],
  ['user: option-like', 'nodes.add', node({ user: '-oProxyCommand=x' }), 'invalid_input', 'user'],
  ['user: empty', 'nodes.add', node({ user: '' }), 'invalid_input', 'user'],
  ['user: unicode lookalike', 'nodes.add', node({ user: 'rооt' }), 'invalid_input', 'user'],
  ['key file: empty path', 'nodes.add', node({ auth: { kind: 'key', keyPath: '' } }), 'invalid_input', 'auth.keyPath'],
  ['key file: 5000-character path', 'nodes.add', node({ auth: { kind: 'key', keyPath: `/${long(5000)}` } }), 'invalid_input', 'auth.keyPath'],
  ['key file: newline and $(…)', 'nodes.add', node({ auth: { kind: 'key', keyPath: '/tmp/k\n$(touch PWNED)' } }), 'invalid_input', 'auth.keyPath'],
  ['key file: NUL in the path', 'nodes.add', node({ auth: { kind: 'key', keyPath: '/etc/ssh/ssh_host_ed25519_key\u0000.pub' } }), 'invalid_input', 'auth.keyPath'],
  ['auth: unknown kind', 'nodes.add', node({ auth: { kind: 'telnet' } }), 'invalid_input', 'auth.kind'],
  ['auth: 5000-character password', 'nodes.add', node({ auth: { kind: 'password', password: long(5000) } }), 'invalid_input', 'auth.password'],
  ['jump host: $(…)', 'nodes.add', node({ jumpHost: '$(touch PWNED)' }), 'invalid_input', 'jumpHost'],
  ['jump host: not a node', 'nodes.add', node({ jumpHost: 'ghost' }), 'node_not_found'],
  ['node: lab that does not exist', 'nodes.add', node({ labId: 999_999 }), 'lab_not_found'],
  ['node: lab id -1', 'nodes.add', node({ labId: -1 }), 'invalid_input', 'labId'],
  ['host key: MD5 fingerprint', 'hostKeys.trust', () => ({ host: '192.0.2.1', port: 22, fingerprint: 'MD5:aa:bb:cc' }), 'invalid_input', 'fingerprint'],
  ['host key: host with $(…)', 'hostKeys.trust', () => ({ host: '$(touch PWNED)', port: 22, fingerprint: `SHA256:${'A'.repeat(43)}` }), 'invalid_input', 'host'],
  ['transcript: node that does not exist', 'terminals.saveTranscript', () => ({ nodeId: 999_999, title: '$(touch PWNED)', text: 'x' }), 'node_not_found'],
  ['transcript: run that does not exist', 'terminals.saveTranscript', () => ({ nodeId: 1, runId: 999_999, title: 't', text: 'x' }), 'run_not_found'],
  ['run: id that does not exist', 'runs.get', () => ({ id: 999_999 }), 'run_not_found'],
  ['terminal: id that was never opened', 'terminals.input', () => ({ id: '../../etc/passwd', data: 'touch PWNED\n' }), 'terminal_closed'],
  ['transcript: one character over the cap', 'terminals.saveTranscript', () => ({ nodeId: 1, title: 't', text: long(1_000_001) }), 'invalid_input', 'text'],
  ['ssh config: empty path', 'nodes.importSshConfig', () => ({ path: '' }), 'invalid_input', 'path'],
  ['VM: empty name', 'experiments.start', exp({ vm: '' }), 'invalid_input', 'vm'],
  ['VM: 5000-character name', 'experiments.start', exp({ vm: long(5000) }), 'invalid_input', 'vm'],
  ['VM: newline in the name', 'experiments.start', exp({ vm: 'a\nb' }), 'invalid_input', 'vm'],
  ['VM: $(…) to a node that does not exist', 'experiments.start', exp({ vm: '$(touch PWNED)', from: 'ghost' }), 'node_not_found'],
  ['node name: quotes and $(…)', 'experiments.start', exp({ vm: "'; touch PWNED; '", to: 'gh$(touch PWNED)ost' }), 'invalid_input', 'to'],
  ['route: same node twice', 'experiments.start', exp({ to: 'n1' }), 'invalid_input', 'to'],
  ['strategy: unknown', 'experiments.start', exp({ strategies: ['bogus'] }), 'invalid_input', 'strategies.0'],
  ['strategy: none', 'experiments.start', exp({ strategies: [] }), 'invalid_input', 'strategies'],
  ['workload: 1001-character custom command', 'experiments.start', exp({ workloads: [{ kind: 'custom', command: long(1001) }] }), 'invalid_input', 'workloads.0.command'],
  ['workload: zero-size dirty buffer', 'experiments.start', exp({ workloads: [{ kind: 'dirty', bufferMiB: 0, rateMiBs: 1 }] }), 'invalid_input', 'workloads.0.bufferMiB'],
  ['repetitions: 0', 'experiments.start', exp({ repetitions: 0 }), 'invalid_input', 'repetitions'],
  ['repetitions: 1001', 'experiments.start', exp({ repetitions: 1001 }), 'invalid_input', 'repetitions'],
  ['params: unknown setting', 'experiments.start', exp({ params: { evil: '$(touch PWNED)' } }), 'invalid_input', 'params.evil'],
  ['params: 201-character shared dir', 'experiments.start', exp({ params: { sharedMemoryDir: `/${long(200)}` } }), 'invalid_input', 'params.sharedMemoryDir'],
  ['demo lab: 9 nodes', 'demo.up', () => ({ nodes: 9 }), 'invalid_input', 'nodes'],
  ['demo lab: subnet with a command', 'demo.up', () => ({ subnet: '10.0.0.0/24; touch PWNED' }), 'invalid_input', 'subnet'],
  ['demo lab: 5000-character subnet', 'demo.up', () => ({ subnet: long(5000) }), 'invalid_input', 'subnet'],
  ['demo lab: an unknown hypervisor', 'demo.up', () => ({ hypervisor: 'kvm; touch PWNED' }), 'invalid_input', 'hypervisor'],
  ['Xen demo lab: 3 hosts', 'demo.up', () => ({ hypervisor: 'xen', nodes: 3 }), 'invalid_input'],
  ['export: unknown format', 'runs.export', () => ({ format: 'xlsx' }), 'invalid_input', 'format'],
  ['jobs: 65-character id', 'jobs.cancel', () => ({ id: long(65) }), 'invalid_input', 'id'],
  ['method: unknown', 'labs.frobnicate', () => ({}), 'unknown_method'],
  ['method: __proto__', '__proto__', () => ({}), 'unknown_method'],
  ['method: constructor', 'constructor', () => ({}), 'unknown_method'],
]

describe('bad input through the contract', () => {
  it.each(contractCases.map((c, n) => [n, ...c] as const))('#%i %s', async (n, _what, method, input, code, field) => {
    const out = await dispatch(core.handlers, method, armed(input(), n))
    expect(out.ok).toBe(false)
    if (!out.ok) expectClear(out.error, code, field)
    expect(existsSync(marker(n)), 'nothing executed').toBe(false)
  })

  it('stored nothing it refused: still one lab, still two nodes', async () => {
    const labs = await core.handlers['labs.list']({})
    expect(labs.map((l) => l.name)).toEqual(['corpus'])
    expect(labs[0].nodes.map((n) => n.name).sort()).toEqual(['n1', 'n2'])
  })
})

// ── through the CLI ───────────────────────────────────────────────────────────────────────────────

type CliCase = [what: string, args: string[], says: RegExp]
const run = (...a: string[]) => ['run', '--lab', 'corpus', '--vm', 'guest', '--from', 'n1', '--to', 'n2', ...a]

const cliCases: CliCase[] = [
  ['--lab with $(…)', ['run', '--lab', '$(touch PWNED)', '--vm', 'x'], /^miglab: --lab: no lab called "\$\(touch /],
  ['--lab with a newline and escapes', ['run', '--lab', 'a\nb\u001b[31m', '--vm', 'x'], /--lab: no lab called "a\\nb\\x1b\[31m"/],
  ['--vm empty', run('--vm', ''), /^miglab: --vm: must not be empty\./],
  ['--vm of 5000 characters', run('--vm', long(5000)), /^miglab: --vm: at most 128 characters\./],
  ['--vm with a newline and OSC escape', run('--vm', 'v\nm\u001b]0;owned\u0007'), /^miglab: --vm: no control characters/],
  ['--vm with $(…) from a node that does not exist', run('--vm', '$(touch PWNED)', '--from', 'ghost'), /^miglab: The lab has no node "ghost"\./],
  ['--from empty is an empty name, not "not given"', run('--from', ''), /^miglab: --from: a name is required\./],
  ['--from with a newline', run('--from', 'n1\nfake'), /^miglab: --from: letters, digits/],
  ['--to equal to --from', run('--to', 'n1'), /^miglab: --to: source and destination must differ\./],
  ['--strategy unknown', run('--strategy', 'bogus'), /^miglab: --strategy: one of precopy, postcopy/],
  ['--workload malformed', run('--workload', 'dirty:abc'), /^miglab: --workload: "dirty:abc" is not a workload\./],
  ['--workload custom without a command', run('--workload', 'custom:'), /^miglab: --workload: "custom:" is not a workload\./],
  ['--reps empty', run('--reps', ''), /^miglab: --reps must be a number, not ""\./],
  ['--reps 0', run('--reps', '0'), /^miglab: --reps: at least 1\./],
  ['--reps not a number', run('--reps', 'five'), /^miglab: --reps must be a number, not "five"\./],
  ['--max-bandwidth negative', run('--max-bandwidth', '-3'), /^miglab: --max-bandwidth: more than 0\./],
  ['--postcopy-after-ms without postcopy', run('--postcopy-after-ms', '100'), /--postcopy-after-ms\/--postcopy-after-passes: post-copy switch-over settings need the postcopy strategy/],
  ['--shared-dir too long', run('--shared-dir', `/${long(300)}`), /^miglab: --shared-dir: at most 200 characters\./],
  ['lab up --nodes 99', ['lab', 'up', '--demo', '--nodes', '99'], /^miglab: --nodes: at most 8\./],
  ['lab up --subnet with a command', ['lab', 'up', '--demo', '--subnet', '10.0.0.0/24; touch PWNED'], /^miglab: --subnet: /],
  ['lab up without --demo', ['lab', 'up'], /^miglab: Only the demo lab can be brought up from the CLI\./],
  ['lab up --hypervisor kvm', ['lab', 'up', '--demo', '--hypervisor', 'kvm'], /^miglab: --hypervisor must be qemu or xen, not "kvm"\./],
  ['run --lab as a lab id that does not exist', ['run', '--lab', '999999', '--vm', 'x'], /^miglab: --lab: no lab called "999999"\./],
  ['run --probe-interval in hex', run('--probe-interval', '0x10'), /^miglab: --probe-interval must be a number, not "0x10"\./],
  ['vm list --lab with $(…)', ['vm', 'list', '--lab', '$(touch PWNED)'], /^miglab: --lab: no lab called/],
  ['serve --port 99999', ['serve', '--port', '99999'], /^miglab: --port must be 0\.\.65535, not "99999"\./],
  ['serve --port with $(…)', ['serve', '--port', '$(touch PWNED)'], /^miglab: --port must be 0\.\.65535/],
]

function miglab(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'bin', 'miglab.mjs'), ...args], { env: { ...process.env, MIGLAB_DATA_DIR: dataDir } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

describe('bad input through the CLI', () => {
  const results = new Map<number, Awaited<ReturnType<typeof miglab>>>()
  beforeAll(async () => {
    // Three at a time: each is a fresh Node process.
    const queue = cliCases.map((c, n) => [n, c] as const)
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let next = queue.shift(); next; next = queue.shift()) results.set(next[0], await miglab(armed(next[1][1], `cli-${next[0]}`) as string[]))
      }),
    )
  }, 240_000)

  it('covers at least 40 cases in all', () => {
    expect(contractCases.length + cliCases.length).toBeGreaterThanOrEqual(40)
  })

  it.each(cliCases.map((c, n) => [n, ...c] as const))('#%i %s', (n, _what, _args, says) => {
    const r = results.get(n)!
    expect(r.status, r.stderr).toBe(1)
    expect(r.stderr).toMatch(says)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^miglab: /)
    expect(lines.some((l) => l.startsWith('  → ')), 'what to do').toBe(true)
    expect(r.stderr, 'no raw control characters').not.toMatch(RAW_CONTROL)
    expect(r.stderr).not.toMatch(/Invalid input for|highlighted|"code":|\[\s*\{|^\s+at /m)
    expect(existsSync(marker(`cli-${n}`)), 'nothing executed').toBe(false)
  })

  it('no marker file anywhere, and the history holds no lab it refused', async () => {
    expect(readdirSync('/tmp').filter((f) => f.startsWith(`PWNED-corpus-${process.pid}`))).toEqual([])
    expect((await core.handlers['labs.list']({})).map((l) => l.name)).toEqual(['corpus'])
  })
})
