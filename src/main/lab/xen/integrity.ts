import { MigLabError, toApiError } from '../../../shared/errors'
import * as xl from '../../remote/xl'
import type { VmSpec } from '../../hypervisors/driver'
import { execOk, type NodeLink } from '../../hypervisors/node-link'
import type { XlDriver } from '../../hypervisors/xen-xl/driver'

/** Measured with one pCPU: 30–60 MB transfers came out corrupted 3/3 while a domU ran; 32 MiB shows it. */
export const GATE_BYTES = 32 * 1024 * 1024
const GATE_FILE = '/tmp/miglab-integrity'
const TRANSFER_TIMEOUT_MS = 180_000

export interface GateHostResult {
  node: string
  from: string
  bytes: number
  ms: number
  ok: boolean
}

export interface GateResult {
  bytes: number
  hosts: GateHostResult[]
  elapsedMs: number
}

/**
 * The Xen lab's self-test (XEN-LAB-RECIPE.md): with a domU running on every host, each dom0 pulls a
 * file of random bytes from the other over the lab network, as `xl migrate` pulls its stream, and the
 * SHA-256 must match the sender's. A configuration in which dom0 receives corrupted data (dom0's and a
 * domU's vCPU sharing one pCPU under TCG) is refused with the hashes as the reason.
 */
export async function integrityGate(driver: XlDriver, hosts: NodeLink[], guests: VmSpec[], onStep: (step: string) => void, signal?: AbortSignal): Promise<GateResult> {
  const started = Date.now()
  onStep(`starting a guest on ${hosts.map((h) => h.name).join(' and ')}`)
  try {
    await Promise.all(hosts.map((h, i) => driver.start(h, guests[i], { signal })))
    onStep(`writing ${GATE_BYTES / 1048576} MiB of random data on each host`)
    const sent = await Promise.all(hosts.map((h) => execOk(h, xl.gateSource(GATE_FILE, GATE_BYTES), 'Writing the integrity test file', { timeoutMs: TRANSFER_TIMEOUT_MS, signal })))
    const sums = sent.map((out) => out.split(/\s/)[0])
    onStep('each host pulls the other\'s file while its guest runs, and checks its SHA-256')
    const results = await Promise.all(
      hosts.map(async (h, i): Promise<GateHostResult & { got: string; stderr: string }> => {
        const peer = hosts[(i + 1) % hosts.length]
        const t = Date.now()
        const r = await h.exec(xl.gateReceive(peer.address, GATE_FILE), { timeoutMs: TRANSFER_TIMEOUT_MS, signal })
        const got = r.stdout.split(/\s/)[0]
        return { node: h.name, from: peer.name, bytes: GATE_BYTES, ms: Date.now() - t, ok: r.code === 0 && got === sums[(i + 1) % hosts.length], got, stderr: r.stderr }
      }),
    )
    const bad = results.filter((r) => !r.ok)
    if (bad.length) {
      throw new MigLabError(
        'xen_lab_integrity_failed',
        `Data received by dom0 arrived corrupted with a guest running: ${bad.map((b) => `${b.node} got SHA-256 ${b.got.slice(0, 16) || '(nothing)'}… from ${b.from}, expected ${sums[hosts.findIndex((h) => h.name === b.from)].slice(0, 16)}…`).join('; ')}. This Xen lab configuration would break migrations mid-stream; it is refused.`,
        {
          stderrTail: bad.map((b) => b.stderr.trim()).filter(Boolean).join('\n').split('\n').slice(-10).join('\n'),
          hint: 'Keep the recipe\'s configuration: QEMU -smp 2, Xen dom0_max_vcpus=1 dom0_vcpus_pin, domU cpus = "1" (XEN-LAB-RECIPE.md).',
        },
      )
    }
    return { bytes: GATE_BYTES, hosts: results.map(({ node, from, bytes, ms, ok }) => ({ node, from, bytes, ms, ok })), elapsedMs: Date.now() - started }
  } finally {
    onStep('removing the test guests and files')
    await Promise.all(
      hosts.map(async (h, i) => {
        await driver.stop(h, guests[i].name).catch((e) => onStep(`could not remove ${guests[i].name} from ${h.name}: ${toApiError(e).message}`))
        await h.exec(xl.removeFiles(GATE_FILE), { timeoutMs: 30_000 }).catch(() => undefined)
      }),
    )
  }
}
