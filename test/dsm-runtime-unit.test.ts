import { describe, expect, it } from 'vitest'
import type { VmSpec } from '../src/main/hypervisors/driver'
import { guestDefinition } from '../src/main/hypervisors/guest-definition'
import { qemuArgs, vmPaths } from '../src/main/hypervisors/qemu/command-line'
import { networkOf } from '../src/main/hypervisors/qemu/dsm-runtime'
import { planMigration } from '../src/main/hypervisors/qemu/plan'
import { buildDsmRuntime, runDsmRuntime } from '../src/main/remote/dsm'
import { migrationParams } from '../src/shared/contract/migration'
import { safeId } from '../src/main/util/safe-id'
import { metricDef, seriesDef } from '../src/shared/metrics'

const params = (p: Record<string, unknown> = {}) => migrationParams.parse(p)
const vm: VmSpec = { name: 'guest', memoryMiB: 256, kernel: '/k' }
const run = { workload: { kind: 'idle' as const } }

describe('DSM over the network: plan, definition, commands', () => {
  it('keeps the RAM in a file in the node\'s own memory and migrates with x-ignore-shared and a pause before switchover', () => {
    const spec = guestDefinition(vm, { ...run, strategy: 'dsm-runtime', params: params({ nodeMemoryDir: '/dev/shm/lab-ram' }) })
    expect([spec.localMemoryPath, spec.sharedMemoryPath]).toEqual([`/dev/shm/lab-ram/miglab-ram/${safeId('guest')}.ram`, undefined])
    // Real nodes: /dev/shm, which is each machine's own memory.
    expect(guestDefinition(vm, { ...run, strategy: 'dsm-runtime', params: params() }).localMemoryPath).toBe(`/dev/shm/miglab-ram/${safeId('guest')}.ram`)
    expect(guestDefinition(spec, { ...run, strategy: 'precopy', params: params() }).localMemoryPath).toBeUndefined()
    const args = qemuArgs({ spec, node: 'n1', paths: vmPaths('/run/miglab', 'n1', 'guest'), accel: 'tcg', incoming: false }).join(' ')
    expect(args).toContain(`memory-backend-file,id=mem,size=256M,mem-path=${spec.localMemoryPath},share=on`)
    const plan = planMigration(spec, 'dsm-runtime', params())
    expect([plan.dsmRuntime, plan.capabilities['x-ignore-shared'], plan.capabilities['pause-before-switchover']]).toEqual([true, true, true])
    // Every other strategy turns the pause off again (QEMU keeps capabilities across migrations).
    expect(planMigration(spec, 'precopy', params()).capabilities['pause-before-switchover']).toBe(false)
    expect(() => planMigration(vm, 'dsm-runtime', params())).toThrow(expect.objectContaining({ code: 'local_memory_missing' }))
    // Shared RAM is never replicated: the runtime would write into the running guest's own memory.
    expect(() => planMigration({ ...vm, sharedMemoryPath: '/dev/shm/x' }, 'dsm-runtime', params())).toThrow(expect.objectContaining({ code: 'unsafe_shared_memory' }))
  })

  it('finds the lab subnet from the source address, and builds mpirun with every value quoted', () => {
    const cidrs = ['127.0.0.1/8', '198.19.218.11/24', '10.1.2.3/16']
    expect(networkOf('198.19.218.11', cidrs)).toBe('198.19.218.0/24')
    expect(networkOf('10.1.2.3', cidrs)).toBe('10.1.0.0/16')
    expect(networkOf('10.9.9.9', cidrs)).toBeUndefined()
    const c = runDsmRuntime({ source: '198.19.218.11', destination: '198.19.218.12', subnet: '198.19.218.0/24', sourceFile: "/x/it's; rm -rf /", replicaFile: '/y', pauseMs: 20 }).text
    expect(c).toContain("198.19.218.0/24 '/x/it'\\''s; rm -rf /' /y 20")
    expect(c).toMatch(/btl_tcp_if_include "\$3" --mca oob_tcp_if_include "\$3"/)
    expect(c).toContain('StrictHostKeyChecking=yes')
    expect(c).not.toContain('StrictHostKeyChecking=no')
    expect(buildDsmRuntime('ab12').text).toMatch(/mpicc -O2 -pthread .* ab12$/s)
  })

  it('declares every figure and series it stores in the registry', () => {
    for (const k of ['dsm_bytes', 'dsm_rounds', 'dsm_presync_ms', 'dsm_final_sync_ms', 'dsm_final_wait_ms', 'dsm_final_bytes']) expect(metricDef(k), k).toBeDefined()
    for (const k of ['dsm.bytes', 'dsm.round_pages', 'dsm.round_ms']) expect(seriesDef(k), k).toBeDefined()
  })
})
