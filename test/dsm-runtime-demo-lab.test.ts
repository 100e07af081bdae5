import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import type { NodeLink } from '../src/main/hypervisors/node-link'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import { cmd } from '../src/main/remote/command'
import { nodeKey } from '../src/main/ssh/targets'
import { migrationParams } from '../src/shared/contract/migration'
import { liveProcessesMentioning } from './fixtures/qemu-processes'
import { demoLabSkipReason, quiet, seedGuestCache, stopGuestEverywhere } from './fixtures/demo-lab'
import { tempDir } from './helpers'

// The demo lab for real (namespaces, each node's sshd in its own mount namespace, real QEMU, real
// OpenMPI between the nodes over the lab bridge). Own prefix and subnet.
const PREFIX = 'mldsm'
const SUBNET = '198.19.213.0/24'

const dataDir = tempDir()
let core: Core
let labId: number
let links: NodeLink[]

const ourQemus = (): number[] => liveProcessesMentioning(`/run/miglab/${PREFIX}-`)

describe.skipIf(!!demoLabSkipReason)('DSM over the network on the demo lab', () => {
  beforeAll(async () => {
    seedGuestCache(dataDir)
    core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    labId = (await core.services.demoLab.up({ subnet: SUBNET, nodes: 2 }, quiet)).labId
    links = core.services.labs.get(labId)!.nodes.map((n) => new SshNodeLink(core.services.ssh, nodeKey(n.id), n.name, n.host))
  }, 240_000)

  afterEach(async () => {
    if (core) await stopGuestEverywhere(core, labId)
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
  }, 60_000)

  afterAll(async () => {
    await core?.close()
    await core?.services.demoLab.down(quiet)
  }, 120_000)

  it('each node has memory of its own: a file in one node\'s RAM folder is not the other\'s, and the coherence proof refuses that folder', async () => {
    const ramDir = core.services.demoLab.paths.ramDir
    const [a, b] = links
    const file = `${ramDir}/written-on-${a.name}`
    expect((await a.exec(cmd('sh', '-c', 'echo "$2" > "$1" && cat "$1"', 'sh', file, 'hello'))).stdout).toBe('hello\n')
    // The other node looks at the same path and finds its own, empty tmpfs; this machine sees neither.
    expect((await b.exec(cmd('test', '-e', file))).code).toBe(1)
    expect((await b.exec(cmd('ls', '-A', ramDir))).stdout).toBe('')
    expect((await a.exec(cmd('findmnt', '-n', '-o', 'FSTYPE', ramDir))).stdout.trim()).toBe('tmpfs')
    const caps = async (dir: string) => (await core.services.drivers.qemu.capabilities(links, migrationParams.parse({ sharedMemoryDir: dir }))).find((c) => c.id === 'dsm')!
    const refused = await caps(ramDir)
    expect(refused.supported).toBe(false)
    expect(refused.reason).toMatch(new RegExp(`${b.name} does not see what ${a.name} writes in ${ramDir}: not coherent shared memory`))
    // Shared memory happens only through the lab's explicitly shared folder (one machine's memory: an ideal).
    expect(await caps(core.services.demoLab.paths.shmDir)).toMatchObject({ supported: true })
    await a.exec(cmd('rm', '-f', file))
  }, 60_000)
})
