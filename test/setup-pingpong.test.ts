import { describe, expect, it } from 'vitest'
import { runPingPong } from '../src/main/remote/mpi-bench'
import { setupFigureLines } from '../src/main/setup/figures'
import { readResult, summary } from '../src/main/setup/mpi-pingpong'
import type { StoredStep } from '../src/shared/contract/setup'
import { parsePingPong, pingPongPoints, sizeLabel } from '../src/shared/pingpong'

// A benchmark output as the demo lab produced it (two namespaces on one 2-core machine).
const OUT = `# miglab-pingpong sha=e691c2e8d867 subnet=198.19.210.0/24 at=2026-11-26T12:35:10Z
rank 0 mlwiz-n1
rank 1 mlwiz-n2
pingpong 8 1000 0.081084964
pingpong 32768 200 0.043644677
pingpong 2097152 20 0.174929220
`

describe('MPI ping-pong figures', () => {
  it('latency is half a round trip and bandwidth the size over it, both from the raw lines', () => {
    const { samples, ranks } = parsePingPong(OUT)
    expect(ranks).toEqual(['mlwiz-n1', 'mlwiz-n2'])
    const [small, mid, big] = pingPongPoints(samples)
    expect(small.latencyUs).toBeCloseTo(((0.081084964 / 1000) / 2) * 1e6, 6) // 40.5 µs
    expect(mid.bandwidthGBps).toBeCloseTo(32768 / (0.043644677 / 200 / 2) / 1e9, 9)
    expect(big.bandwidthGBps).toBeCloseTo(2097152 / (0.17492922 / 20 / 2) / 1e9, 9)
    expect(samples.map((s) => sizeLabel(s.bytes))).toEqual(['8 B', '32 KiB', '2 MiB'])
  })

  it('a stored output counts only for the same benchmark source and the same subnet', () => {
    expect(readResult(OUT, 'e691c2e8d867', '198.19.210.0/24')?.samples).toHaveLength(3)
    expect(readResult(OUT, 'other', '198.19.210.0/24')).toBeUndefined()
    expect(readResult(OUT, 'e691c2e8d867', '10.0.0.0/8')).toBeUndefined()
    expect(readResult('# miglab-pingpong sha=a subnet=b at=c\n', 'a', 'b')).toBeUndefined() // header without samples
    expect(summary(readResult(OUT, 'e691c2e8d867', '198.19.210.0/24')!)).toBe('8 B: 40.5 µs; 2 MiB: 0.48 GB/s (ranks on mlwiz-n1, mlwiz-n2)')
  })

  it('mpirun stays on the lab subnet over TCP, with the rankfile; root is allowed only for root', () => {
    const root = runPingPong({ sha: 'abc', subnet: '198.18.0.0/24', ranks: 2, sshPort: 22, root: true }).text
    expect(root).toContain('--rankfile "$d/rankfile"')
    expect(root).toContain('--mca btl self,tcp')
    expect(root).toContain('--mca btl_tcp_if_include "$2" --mca oob_tcp_if_include "$2"')
    expect(root).toMatch(/sh abc 198\.18\.0\.0\/24 2 ''\n/)
    expect(root).toMatch(/^\(export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 /)
    expect(runPingPong({ sha: 'abc', subnet: 's', ranks: 2, sshPort: 2222, root: false }).text).toMatch(/^sh -c .* sh abc s 2 2222$/s)
  })

  it('the CLI prints the table from the stored step', () => {
    const { samples, ranks } = parsePingPong(OUT)
    const step = { step: 'pingpong', facts: { pingpong: { samples, ranks, command: 'x', at: '2026-11-26T12:35:10Z' } } } as unknown as StoredStep
    const lines = setupFigureLines([step])
    expect(lines[0]).toMatch(/^MPI ping-pong \(ranks on mlwiz-n1, mlwiz-n2/)
    expect(lines).toContainEqual(expect.stringMatching(/^\s+8 B\s+1000\s+40\.5\s+0\.000$/))
    expect(setupFigureLines([])).toEqual([])
  })
})

describe('Grappa step (optional; fake nodes — no Grappa source exists here)', async () => {
  const { runWizard } = await import('../src/main/setup/engine')
  const { grappaStep, atLeast } = await import('../src/main/setup/grappa')
  const { wizardState } = await import('../src/main/setup/status')
  const { openDb } = await import('../src/main/store/db')
  const { SetupStepsRepo } = await import('../src/main/store/setup-steps')
  const w = { id: 'mpi' as const, title: 'G', about: '', steps: [grappaStep] }
  const node = { id: 1, key: '1', name: 'n1', host: '10.0.0.1', port: 22, user: 'root' }
  const store = () => {
    const db = openDb(':memory:')
    db.exec("INSERT INTO labs (id, name, kind, created_at) VALUES (1, 'lab', 'real', '2026-01-01')")
    db.prepare("INSERT INTO nodes (id, lab_id, name, host, user, auth, created_at) VALUES (1, 1, 'n1', 'h', 'root', '{}', '2026-01-01')").run()
    return new SetupStepsRepo(db)
  }
  const progress = { progress: () => {}, log: () => {}, checkCancelled: () => {} }
  const exec = (probe: string) => {
    const ran: string[] = []
    return {
      ran,
      exec: {
        async run(_n: unknown, c: { text: string }) {
          ran.push(c.text)
          if (c.text.includes('source yes')) return { code: 0, signal: null, stdout: probe, stderr: '' }
          if (c.text.includes('command -v apt-get')) return { code: 0, signal: null, stdout: 'apt\n', stderr: '' }
          if (c.text.includes('dpkg-query')) return { code: 0, signal: null, stdout: 'ruby missing\ncmake installed\ng++ installed\n', stderr: '' }
          return { code: 0, signal: null, stdout: '', stderr: '' }
        },
        privilege: () => 'root' as const,
      },
    }
  }

  it('no source given: skipped with the reason, nothing run on the node, and the wizard still counts as done', async () => {
    const { exec: e, ran } = exec('')
    const s = store()
    const r = await runWizard(w, { labId: 1, nodes: [node], dryRun: false }, { exec: e, store: s, progress })
    expect(r.steps[0]).toMatchObject({ outcome: 'skipped', commands: [] })
    expect(r.steps[0].found).toMatch(/^no Grappa source given .*grappa-third-party-downloads\.tar/)
    expect(ran).toEqual([])
    expect(wizardState(w, ['n1'], s.list(1, 'mpi'))).toBe('done')
  })

  it('a source path with no Grappa in it: skipped, saying so', async () => {
    const { exec: e } = exec('source no\ntarball no\nbuilt no\nruby \ncmake 3.25.1\ngcc 12.2.0\n')
    const r = await runWizard(w, { labId: 1, nodes: [node], dryRun: true, options: { grappaSource: '/opt/grappa' } }, { exec: e, store: store(), progress })
    expect(r.steps[0]).toMatchObject({ outcome: 'skipped', found: 'no Grappa source at /opt/grappa on n1 (no configure script there)' })
  })

  it('a source and the tarball: the dry run installs the missing Ruby, configures offline and makes demo-hello_world', async () => {
    const { exec: e } = exec('source yes\ntarball yes\nbuilt no\nruby \ncmake 3.25.1\ngcc 12.2.0\n')
    const r = await runWizard(w, { labId: 1, nodes: [node], dryRun: true, options: { grappaSource: '/opt/grappa', grappaThirdParty: '/opt/grappa-third-party-downloads.tar' } }, { exec: e, store: store(), progress })
    expect(r.steps[0].outcome).toBe('would_change')
    expect(r.steps[0].change).toBe("install ruby, then configure with this node's gcc/g++ and make demo-hello_world in build/Make+Release")
    expect(r.steps[0].commands[0]).toContain('apt-get install -y --no-install-recommends ruby')
    expect(r.steps[0].commands[1]).toMatch(/--third-party-tarfile="\$2".*make -j"\$\(nproc\)" demo-hello_world' sh \/opt\/grappa \/opt\/grappa-third-party-downloads\.tar$/s)
    expect(atLeast('2.8.12', '2.8.12') && atLeast('3.25.1', '2.8.12') && !atLeast('2.8.6', '2.8.12') && atLeast('12.2.0', '4.7.2')).toBe(true)
  })
})
