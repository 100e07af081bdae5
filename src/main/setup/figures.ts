import type { StoredStep } from '../../shared/contract/setup'
import { asPingPong, pingPongPoints, sizeLabel } from '../../shared/pingpong'

/** The figures a wizard measured (MPI ping-pong table, NFS proof), as text lines for the CLI. */
export function setupFigureLines(steps: StoredStep[]): string[] {
  const out: string[] = []
  const pp = asPingPong(steps.find((s) => s.step === 'pingpong')?.facts)
  if (pp) {
    out.push(`MPI ping-pong (ranks on ${pp.ranks.join(', ')}, ${pp.at}; latency = half a round trip):`)
    out.push(`  ${'message'.padStart(8)}  ${'trips'.padStart(6)}  ${'latency µs'.padStart(10)}  ${'GB/s'.padStart(7)}`)
    for (const p of pingPongPoints(pp.samples)) {
      out.push(`  ${sizeLabel(p.bytes).padStart(8)}  ${String(p.roundTrips).padStart(6)}  ${p.latencyUs.toFixed(1).padStart(10)}  ${p.bandwidthGBps.toFixed(3).padStart(7)}`)
    }
  }
  const proof = steps.find((s) => s.step === 'proof' && s.facts?.sha256)
  if (proof?.facts) {
    out.push(`NFS proof: written sha256 ${String(proof.facts.sha256)}`)
    for (const [node, v] of Object.entries(proof.facts)) {
      const r = v as { sha256?: string; mibPerS?: number } | null
      if (r && typeof r === 'object' && typeof r.sha256 === 'string') {
        out.push(`  ${node} read ${r.sha256 === proof.facts.sha256 ? 'the same bytes' : 'DIFFERENT bytes'} over NFS${typeof r.mibPerS === 'number' ? ` at ${r.mibPerS.toFixed(0)} MiB/s` : ' (throughput not measured)'}`)
      }
    }
  }
  return out
}
