import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import type { DemoLabStatus } from '../../shared/domain'
import { MigLabError } from '../../shared/errors'
import { probeKvm } from '../hypervisors/qemu/accel'
import { DEFAULT_RUN_DIR, nodeDir } from '../hypervisors/qemu/command-line'
import type { HostKeysRepo } from '../store/hostkeys'
import type { LabsRepo } from '../store/labs'
import { run } from './exec'
import { bootGuest, type GuestBootOptions, type GuestHandle } from './guest-boot'
import { ensureGuestImage } from './guest-image'
import { withLabLock } from './lock'
import { checkSubnetFree, ensureNetwork, labNamespaces, removeNetwork } from './network'
import { DEFAULT_NODES, DEFAULT_PREFIX, DEFAULT_SUBNET, planLab, type LabPlan } from './plan'
import { checkHost, checkPrerequisites } from './prereqs'
import { commandLineOf, isRunning, killAll, readPidFile } from './processes'
import { checkDemoName, DEMO_LAB_NAME, registerDemoLab } from './register'
import { assertSshdAlive, ensureKeyPair, ensureSshd, runningSshd } from './sshd'
import { LabPaths, type LabSettings } from './state'
import { canConnect, waitForPort } from './tcp'

/** What a job gives a long operation: where it is, and a chance to stop between steps. */
export interface StepReporter {
  progress(fraction: number, step: string): void
  checkCancelled(): void
  /** Aborts waits inside a step (a job's cancel). */
  readonly signal?: AbortSignal
}

export interface DemoLabOptions {
  dataDir: string
  labs: LabsRepo
  hostKeys: HostKeysRepo
  /** Namespaces, links and /dev/shm files start with it; tests use their own so they never touch a user's lab. */
  prefix?: string
}

export interface DemoLabUpResult {
  labId: number
  subnet: string
  nodes: { name: string; ip: string; namespace: string }[]
  accel: 'kvm' | 'tcg'
  guestImage: { key: string; built: boolean; kernelPackage: string }
  elapsedMs: number
}

const SSHD_READY_MS = 5000

/** The demo lab on this Linux host: N network-namespace nodes with their own sshd, a switch, a guest image. */
/** The lab's guest-RAM folder in /dev/shm (sticky): ours alone, 0700, never a link someone planted. */
function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const st = lstatSync(dir)
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new MigLabError('unsafe_shared_folder', `${dir} is not a private directory of this user (a link, another owner, or open to others).`, {
      hint: `Remove ${dir} (somebody else may have created it) and bring the lab up again.`,
    })
  }
}

export class DemoLab {
  readonly prefix: string
  readonly paths: LabPaths

  constructor(private readonly options: DemoLabOptions) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX
    this.paths = new LabPaths(options.dataDir, this.prefix)
  }

  /** The lab as last brought up, or as it would be with the defaults. */
  plan(): LabPlan {
    const s = this.paths.readSettings()
    return planLab(this.prefix, s?.subnet ?? DEFAULT_SUBNET, s?.nodes ?? DEFAULT_NODES)
  }

  /**
   * Builds the lab, or repairs whatever part of it is missing or dead; running pieces are left alone.
   * Options not given keep the lab's current settings; changing subnet or node count rebuilds it.
   */
  async up(request: { nodes?: number; subnet?: string }, report: StepReporter): Promise<DemoLabUpResult> {
    const started = Date.now()
    const tools = checkPrerequisites()
    checkDemoName(this.options.labs)
    return withLabLock(this.paths.lock, async () => {
      const previous = this.paths.readSettings()
      const plan = planLab(this.prefix, request.subnet ?? previous?.subnet ?? DEFAULT_SUBNET, request.nodes ?? previous?.nodes ?? DEFAULT_NODES)
      report.progress(0.02, `Checking that ${plan.subnet} is free`)
      await checkSubnetFree(plan)
      if (previous && (previous.subnet !== plan.subnet || previous.nodes !== plan.nodes.length)) {
        report.progress(0.04, `Reshaping: removing the ${previous.nodes}-node lab on ${previous.subnet}`)
        await this.teardown()
      } else {
        await this.removeExtraNodes(plan)
      }
      const settings: LabSettings = { ...previous, prefix: this.prefix, subnet: plan.subnet, nodes: plan.nodes.length }
      this.paths.writeSettings(settings)
      report.checkCancelled()

      ensurePrivateDir(this.paths.shmDir)
      // Mount points for each node's own memory and ~/.ssh (the nodes mount over them, this machine never does).
      ensurePrivateDir(this.paths.ramDir)
      mkdirSync(join(userInfo().homedir, '.ssh'), { recursive: true, mode: 0o700 })
      report.progress(0.06, 'Lab SSH key')
      await ensureKeyPair(tools['ssh-keygen'], this.paths.clientKey, `miglab demo lab ${this.prefix}`)
      report.checkCancelled()

      report.progress(0.08, `Network: namespaces ${plan.switchNamespace}, ${plan.nodes.map((n) => n.namespace).join(', ')}`)
      await ensureNetwork(plan, (step) => report.progress(0.12, `Network: ${step}`))
      report.checkCancelled()

      for (const [i, node] of plan.nodes.entries()) {
        report.progress(0.2 + (0.15 * i) / plan.nodes.length, `sshd on ${node.name} (${node.ip})`)
        await ensureSshd(this.paths, node, tools)
      }
      report.progress(0.35, 'Waiting for sshd on every node')
      await Promise.all(plan.nodes.map(async (node) => {
        if (await waitForPort(node.ip, 22, SSHD_READY_MS)) return
        assertSshdAlive(this.paths, node)
        throw new MigLabError('demo_lab_unreachable', `sshd of ${node.name} runs but ${node.ip}:22 does not answer from this namespace.`, {
          hint: 'Run `miglab lab down` then `miglab lab up --demo`.',
        })
      }))
      report.checkCancelled()

      const image = await ensureGuestImage(this.paths.cacheDir, (step, f) => report.progress(0.45 + 0.43 * f, `Guest image: ${step}`))
      report.checkCancelled()

      report.progress(0.9, 'Choosing the accelerator (KVM if it works, else TCG)')
      const accel = await probeKvm()
      this.paths.writeSettings({ ...settings, accel: accel.accel, ...(accel.reason ? { accelReason: accel.reason } : {}), guestImage: { key: image.key, kernel: image.kernel, initrd: image.initrd } })

      report.progress(0.95, `Registering lab "${DEMO_LAB_NAME}" and trusting the nodes' host keys`)
      const lab = registerDemoLab(this.options.labs, this.options.hostKeys, plan, this.paths)
      return {
        labId: lab.id,
        subnet: plan.subnet,
        nodes: plan.nodes.map(({ name, ip, namespace }) => ({ name, ip, namespace })),
        accel: accel.accel,
        guestImage: { key: image.key, built: image.built, kernelPackage: image.kernelPackage },
        elapsedMs: Date.now() - started,
      }
    })
  }

  /** Removes every namespace, link, process and /dev/shm file of the lab. The `demo` lab record stays. */
  async down(report: StepReporter): Promise<{ killed: number; namespaces: string[] }> {
    checkHost()
    return withLabLock(this.paths.lock, async () => {
      report.progress(0.1, 'Stopping the lab’s sshd and QEMU processes')
      const result = await this.teardown()
      report.progress(0.9, 'Checking that nothing is left')
      const left = [...labNamespaces(this.prefix), ...(existsSync(`/sys/class/net/${this.prefix}0`) ? [`${this.prefix}0`] : [])]
      if (left.length > 0) throw new MigLabError('demo_lab_teardown_incomplete', `Could not remove ${left.join(', ')}.`, { hint: 'ip netns list; ip link show' })
      return result
    })
  }

  /** What exists and answers now. Works without root (reads /run/netns, /proc, /sys). */
  async status(): Promise<DemoLabStatus> {
    const settings = this.paths.readSettings()
    const plan = this.plan()
    const namespaces = new Set(labNamespaces(this.prefix))
    const mgmt = existsSync(`/sys/class/net/${plan.managementLink}`)
    const nodes = await Promise.all(
      plan.nodes.map(async (n) => ({
        name: n.name,
        ip: n.ip,
        namespace: n.namespace,
        sshdRunning: runningSshd(this.paths, n) !== undefined,
        reachable: mgmt && namespaces.has(n.namespace) ? await canConnect(n.ip, 22, 1000) : false,
      })),
    )
    const problems = [
      ...(namespaces.has(plan.switchNamespace) ? [] : [`namespace ${plan.switchNamespace} is missing`]),
      ...(mgmt ? [] : [`management link ${plan.managementLink} is missing`]),
      ...nodes.flatMap((n) => [
        ...(namespaces.has(n.namespace) ? [] : [`namespace ${n.namespace} is missing`]),
        ...(n.sshdRunning ? [] : [`sshd of ${n.name} is not running`]),
        ...(n.sshdRunning && !n.reachable ? [`${n.ip}:22 does not answer`] : []),
      ]),
    ]
    const anything = namespaces.size > 0 || mgmt || nodes.some((n) => n.sshdRunning)
    const lab = this.options.labs.byName(DEMO_LAB_NAME)
    return {
      state: problems.length === 0 ? 'up' : anything ? 'partial' : 'down',
      prefix: this.prefix,
      subnet: plan.subnet,
      managementIp: plan.managementIp,
      guestIp: plan.guestIp,
      accel: settings?.accel ?? null,
      labId: lab?.kind === 'demo' ? lab.id : null,
      nodes,
      problems: anything ? problems : [],
    }
  }

  /** Boots a guest on a lab node (default the first) from the image `up` built. */
  async bootGuest(options: Omit<GuestBootOptions, 'plan' | 'paths' | 'image' | 'accel'> = {}): Promise<GuestHandle> {
    const settings = this.paths.readSettings()
    const image = settings?.guestImage
    if (!image || !existsSync(image.kernel) || !existsSync(image.initrd)) {
      throw new MigLabError('demo_lab_down', 'The demo lab has no guest image yet.', { hint: 'miglab lab up --demo' })
    }
    return bootGuest({ ...options, plan: this.plan(), paths: this.paths, image, ...(settings.accel ? { accel: { accel: settings.accel, reason: settings.accelReason } } : {}) })
  }

  /** Kills the lab's processes (namespace members and pid files), then removes its network and shared memory. */
  private async teardown(): Promise<{ killed: number; namespaces: string[] }> {
    const namespaces = labNamespaces(this.prefix)
    const pids = new Set<number>()
    for (const ns of namespaces) {
      const { stdout } = await run(['ip', 'netns', 'pids', ns])
      for (const pid of stdout.split(/\s+/).filter(Boolean)) pids.add(Number(pid))
    }
    // Pid files catch daemons whose namespace was already deleted; only if they still run our files.
    for (const pid of this.pidFiles().map(readPidFile)) {
      if (pid && isRunning(pid) && commandLineOf(pid).some((a) => a.includes(this.paths.root))) pids.add(pid)
    }
    const survivors = await killAll(pids)
    if (survivors.length > 0) {
      throw new MigLabError('demo_lab_teardown_incomplete', `Processes ${survivors.join(', ')} of the demo lab survived SIGKILL.`, { hint: `ps -o pid,stat,cmd -p ${survivors.join(',')}` })
    }
    await removeNetwork(this.prefix)
    for (const f of this.pidFiles()) rmSync(f, { force: true })
    rmSync(this.paths.guestsDir, { recursive: true, force: true })
    // Guest RAM (the lab's shm folder) and QEMU's runtime files of the lab's nodes: nothing stays behind.
    for (const f of readdirSync('/dev/shm')) if (f.startsWith(`${this.prefix}-`)) rmSync(join('/dev/shm', f), { recursive: true, force: true })
    for (const n of this.plan().nodes) rmSync(nodeDir(DEFAULT_RUN_DIR, n.name), { recursive: true, force: true })
    return { killed: pids.size, namespaces }
  }

  /** Node namespaces beyond the planned count (the lab shrank) go, with their processes. */
  private async removeExtraNodes(plan: LabPlan): Promise<void> {
    const wanted = new Set([plan.switchNamespace, ...plan.nodes.map((n) => n.namespace)])
    for (const ns of labNamespaces(this.prefix).filter((n) => !wanted.has(n))) {
      const { stdout } = await run(['ip', 'netns', 'pids', ns])
      await killAll(stdout.split(/\s+/).filter(Boolean).map(Number))
      await run(['ip', 'netns', 'del', ns])
    }
  }

  private pidFiles(): string[] {
    const files: string[] = []
    if (!existsSync(this.paths.root)) return files
    for (const entry of readdirSync(this.paths.root, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(this.paths.root, entry.name, 'sshd.pid'))) files.push(join(this.paths.root, entry.name, 'sshd.pid'))
    }
    if (existsSync(this.paths.guestsDir)) for (const f of readdirSync(this.paths.guestsDir)) if (f.endsWith('.pid')) files.push(join(this.paths.guestsDir, f))
    return files
  }
}
