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
