import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { hostAt, parseIpv4Cidr } from '../../../shared/cidr'
import type { DemoLabStatus } from '../../../shared/domain'
import { MigLabError } from '../../../shared/errors'
import type { VmSpec } from '../../hypervisors/driver'
import type { NodeLink } from '../../hypervisors/node-link'
import { SshNodeLink } from '../../hypervisors/ssh-node-link'
import type { XlDriver } from '../../hypervisors/xen-xl/driver'
import type { SshPool } from '../../ssh/pool'
import { nodeKey } from '../../ssh/targets'
import type { HostKeysRepo } from '../../store/hostkeys'
import type { LabsRepo } from '../../store/labs'
import type { StepReporter } from '../demo-lab'
import { run } from '../exec'
import { guestCmdline, READY_MARKER } from '../guest-cmdline'
import { withLabLock } from '../lock'
import { checkSubnetFree, ensureSwitch, ensureSwitchTap, labNamespaces, linkExists, removeNetwork } from '../network'
import { checkPrefix, planLab, type LabPlan } from '../plan'
import { checkHost } from '../prereqs'
import { isRunning, killAll } from '../processes'
import { checkDemoName, registerLab } from '../register'
import { ensureKeyPair } from '../sshd'
import { LabPaths } from '../state'
import { canConnect } from '../tcp'
import { DOMU_INITRD, DOMU_KERNEL, ensureDom0Image, XEN_VERSION, type Dom0Image } from './dom0-image'
import { hostFiles, hostPublicKey, hostTap, runningHost, startHost, waitForHost, writeSeed } from './host'
import { integrityGate, type GateResult } from './integrity'
import { checkXenPrerequisites } from './prereqs'

export const XEN_LAB_NAME = 'demo-xen'
export const DEFAULT_XEN_PREFIX = 'mxen'
/** Beside the QEMU demo lab's 198.18.0.0/24, so both can be up at once. */
export const DEFAULT_XEN_SUBNET = '198.18.1.0/24'
const HOSTS = 2
export const XEN_VM = 'guest'
export const XEN_ECHO_PORT = 7777
/** The smallest a PV guest boots with (64 MiB: "segment kernel too large"). */
export const XEN_VM_MEMORY_MIB = 128

export interface XenLabOptions {
  dataDir: string
  labs: LabsRepo
  hostKeys: HostKeysRepo
  ssh: SshPool
  driver: XlDriver
  prefix?: string
  /** Where the dom0 image is cached (default: beside the QEMU guest image); tests share one across data dirs. */
  cacheDir?: string
}

export interface XenLabUpResult {
  labId: number
  subnet: string
  nodes: { name: string; ip: string }[]
  dom0Image: { key: string; built: boolean; buildMs: number }
  bootMs: number
  gate: GateResult
  elapsedMs: number
}

/** Xen's own OUI and the address: one MAC per guest, the same on whichever host it runs. */
function xenMac(ip: string): string {
  const [, b, c, d] = ip.split('.').map(Number)
  return `00:16:3e:${[b & 0x7f, c, d].map((n) => n.toString(16).padStart(2, '0')).join(':')}`
}

/**
 * The Xen demo lab: two Xen 4.17 hosts as QEMU TCG guests on this machine, each with its own tap on
 * the lab's switch bridge, their dom0s reachable over SSH like any lab node, and root SSH trust between
 * the dom0s for `xl migrate`. One dom0 image, built once and cached by the hash of its inputs, is
 * booted by both hosts copy-on-write (nothing persists). `up` ends with the integrity gate.
 */
export class XenLab {
  readonly prefix: string
  readonly paths: LabPaths
  readonly cacheDir: string

  constructor(private readonly options: XenLabOptions) {
    this.prefix = options.prefix ?? DEFAULT_XEN_PREFIX
    checkPrefix(this.prefix)
    this.paths = new LabPaths(options.dataDir, this.prefix)
    this.cacheDir = options.cacheDir ?? this.paths.cacheDir
  }

  plan(subnet?: string): LabPlan {
    const plan = planLab(this.prefix, subnet ?? this.paths.readSettings()?.subnet ?? DEFAULT_XEN_SUBNET, HOSTS)
    return { ...plan, guestMac: xenMac(plan.guestIp) }
  }

  private get trustKey(): string {
    return join(this.paths.root, 'dom0_trust_ed25519')
  }

  /** The lab's guest: dom0's kernel and MigLab's initramfs (inside each dom0), one address and MAC wherever it runs. */
  vmSpec(plan = this.plan(), name = XEN_VM, ipIndex = 100): VmSpec {
    const ip = hostAt(parseIpv4Cidr(plan.subnet)!, ipIndex)
    return {
      name,
      memoryMiB: XEN_VM_MEMORY_MIB,
      kernel: DOMU_KERNEL,
      initrd: DOMU_INITRD,
      append: guestCmdline({ ip: `${ip}/${plan.prefixLength}`, console: 'hvc0' }),
      nic: { mac: xenMac(ip), taps: {} },
      readyMarker: READY_MARKER,
      echo: { ip, port: XEN_ECHO_PORT },
    }
  }

  /** The lab's nodes as the driver reaches them: over SSH, like real hosts. */
  links(): NodeLink[] {
    const lab = this.options.labs.byName(XEN_LAB_NAME)
    return (lab?.nodes ?? []).map((n) => new SshNodeLink(this.options.ssh, nodeKey(n.id), n.name, n.host))
  }

  async up(request: { subnet?: string }, report: StepReporter): Promise<XenLabUpResult> {
    const started = Date.now()
    const tools = checkXenPrerequisites()
    checkDemoName(this.options.labs, XEN_LAB_NAME)
    return withLabLock(this.paths.lock, async () => {
      const previous = this.paths.readSettings()
      const plan = this.plan(request.subnet)
      report.progress(0.01, `Checking that ${plan.subnet} is free`)
      await checkSubnetFree(plan)
      if (previous && previous.subnet !== plan.subnet) {
        report.progress(0.02, `Reshaping: removing the Xen lab on ${previous.subnet}`)
        await this.teardown()
      }
      this.paths.writeSettings({ prefix: this.prefix, subnet: plan.subnet, nodes: HOSTS })
      report.checkCancelled()

      report.progress(0.03, 'Lab SSH keys (MigLab → dom0, dom0 ↔ dom0, host keys)')
      mkdirSync(this.paths.root, { recursive: true })
      await ensureKeyPair(tools['ssh-keygen'], this.paths.clientKey, `miglab xen lab ${this.prefix}`)
      await ensureKeyPair(tools['ssh-keygen'], this.trustKey, `miglab xen lab ${this.prefix} dom0 trust`)
      const files = plan.nodes.map((n) => hostFiles(this.paths, n))
      for (const f of files) {
        mkdirSync(f.dir, { recursive: true })
        await ensureKeyPair(tools['ssh-keygen'], f.hostKey, `${this.prefix} xen host key`)
      }
      report.checkCancelled()

      report.progress(0.05, `Network: switch ${plan.switchNamespace}, taps ${plan.nodes.map((_, i) => hostTap(i)).join(', ')}`)
      await ensureSwitch(plan, (step) => report.progress(0.06, `Network: ${step}`))
      for (const i of plan.nodes.keys()) await ensureSwitchTap(plan, hostTap(i))
      report.checkCancelled()

      const buildAt = Date.now()
      const image = await ensureDom0Image(this.cacheDir, (step, f) => report.progress(0.08 + 0.5 * f, `dom0 image: ${step}`), report)
      const buildMs = Date.now() - buildAt
      report.checkCancelled()

      const bootAt = Date.now()
      await this.bootHosts(plan, image, files, report)
      const bootMs = Date.now() - bootAt

      report.progress(0.8, `Registering lab "${XEN_LAB_NAME}" and pinning the dom0 host keys`)
      const lab = registerLab(this.options.labs, this.options.hostKeys, {
        name: XEN_LAB_NAME,
        description: `Xen demo lab on this host: ${HOSTS} Xen ${XEN_VERSION} hosts (QEMU TCG) on ${plan.subnet}, xl toolstack.`,
        hypervisor: 'xl',
        clientKey: this.paths.clientKey,
        nodes: plan.nodes.map((n, i) => ({ name: n.name, ip: n.ip, hostKey: hostPublicKey(files[i]) })),
      })
      report.checkCancelled()

      const gate = await integrityGate(
        this.options.driver,
        this.links(),
        plan.nodes.map((_, i) => this.vmSpec(plan, `miglab-gate-${i + 1}`, 101 + i)),
        (step) => report.progress(0.85, `Integrity check: ${step}`),
        report.signal,
      ).catch(async (err) => {
        // A configuration that corrupts data must not stay up looking usable.
        if (err instanceof MigLabError && err.code === 'xen_lab_integrity_failed') await this.teardown()
        throw err
      })
      return {
        labId: lab.id,
        subnet: plan.subnet,
        nodes: plan.nodes.map(({ name, ip }) => ({ name, ip })),
        dom0Image: { key: image.key, built: image.built, buildMs },
        bootMs,
        gate,
        elapsedMs: Date.now() - started,
      }
    })
  }

  /** Both hosts boot at once (each ~1.3 cores under TCG while busy); a running host is left alone. */
  private async bootHosts(plan: LabPlan, image: Dom0Image, files: ReturnType<typeof hostFiles>[], report: StepReporter): Promise<void> {
    const hosts = plan.nodes.map((n, i) => ({ ip: n.ip, pub: hostPublicKey(files[i]) }))
    for (const [i, node] of plan.nodes.entries()) {
      if (runningHost(files[i])) continue
      await writeSeed(files[i], { clientPub: `${this.paths.clientKey}.pub`, trustKey: this.trustKey, hosts })
      report.progress(0.6 + 0.02 * i, `Booting Xen host ${node.name} (${node.ip})`)
      await startHost(plan, i, image, files[i])
    }
    report.progress(0.65, `Waiting for Xen and dom0 on ${plan.nodes.map((n) => n.name).join(', ')} (~25 s each under TCG)`)
    await Promise.all(plan.nodes.map((n, i) => waitForHost(n, files[i], report.signal)))
  }

  async down(report: StepReporter): Promise<{ killed: number; namespaces: string[] }> {
    checkHost()
    return withLabLock(this.paths.lock, async () => {
      report.progress(0.1, 'Stopping the Xen hosts')
      const result = await this.teardown()
      report.progress(0.9, 'Checking that nothing is left')
      const left = [...labNamespaces(this.prefix), ...((await linkExists(`${this.prefix}0`)) ? [`${this.prefix}0`] : [])]
      if (left.length > 0) throw new MigLabError('demo_lab_teardown_incomplete', `Could not remove ${left.join(', ')}.`, { hint: 'ip netns list; ip link show' })
      return result
    })
  }

  async status(): Promise<DemoLabStatus> {
    const plan = this.plan()
    const namespaces = new Set(labNamespaces(this.prefix))
    const mgmt = existsSync(`/sys/class/net/${plan.managementLink}`)
    const nodes = await Promise.all(
      plan.nodes.map(async (n) => {
        const running = runningHost(hostFiles(this.paths, n)) !== undefined
        return { name: n.name, ip: n.ip, namespace: plan.switchNamespace, sshdRunning: running, reachable: mgmt && running ? await canConnect(n.ip, 22, 1000) : false }
      }),
    )
    const problems = [
      ...(namespaces.has(plan.switchNamespace) ? [] : [`namespace ${plan.switchNamespace} is missing`]),
      ...(mgmt ? [] : [`management link ${plan.managementLink} is missing`]),
      ...nodes.flatMap((n) => [...(n.sshdRunning ? [] : [`Xen host ${n.name} is not running`]), ...(n.sshdRunning && !n.reachable ? [`dom0 ${n.ip}:22 does not answer`] : [])]),
    ]
    const anything = namespaces.size > 0 || mgmt || nodes.some((n) => n.sshdRunning)
    const lab = this.options.labs.byName(XEN_LAB_NAME)
    return {
      state: problems.length === 0 ? 'up' : anything ? 'partial' : 'down',
      prefix: this.prefix,
      subnet: plan.subnet,
      managementIp: plan.managementIp,
      guestIp: plan.guestIp,
      accel: anything ? 'tcg' : null,
      labId: lab?.kind === 'demo' ? lab.id : null,
      nodes,
      problems: anything ? problems : [],
    }
  }

  /** Kills the hosts' QEMUs (switch namespace members and pid files), removes the network and every run file. */
  private async teardown(): Promise<{ killed: number; namespaces: string[] }> {
    // Connections to the dom0s end first: the pool would otherwise keep redialling hosts that are gone.
    for (const n of this.options.labs.byName(XEN_LAB_NAME)?.nodes ?? []) await this.options.ssh.disconnect(nodeKey(n.id))
    const namespaces = labNamespaces(this.prefix)
    const pids = new Set<number>()
    for (const n of this.plan().nodes) {
      const pid = runningHost(hostFiles(this.paths, n))
      if (pid) pids.add(pid)
    }
    for (const ns of namespaces) {
      const { stdout } = await run(['ip', 'netns', 'pids', ns])
      for (const pid of stdout.split(/\s+/).filter(Boolean)) pids.add(Number(pid))
    }
    const survivors = await killAll([...pids].filter(isRunning))
    if (survivors.length > 0) {
      throw new MigLabError('demo_lab_teardown_incomplete', `Processes ${survivors.join(', ')} of the Xen lab survived SIGKILL.`, { hint: `ps -o pid,stat,cmd -p ${survivors.join(',')}` })
    }
    await removeNetwork(this.prefix)
    // Seeds, serial logs, pid files and QEMU's copy-on-write overlays ($TMPDIR): nothing stays behind.
    if (existsSync(this.paths.root)) {
      for (const entry of readdirSync(this.paths.root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue
        const dir = join(this.paths.root, entry.name)
        for (const f of ['qemu.pid', 'seed.tar', 'tmp', 'seed']) rmSync(join(dir, f), { recursive: true, force: true })
      }
    }
    return { killed: pids.size, namespaces }
  }
}
