/** Domain types shared by the core, the doors and the renderer. Plain data only. */

export type LabKind = 'demo' | 'real'

/** Which hypervisor driver runs a lab's VMs. */
export const hypervisorKinds = ['qemu', 'xen', 'xl'] as const
export type HypervisorKind = (typeof hypervisorKinds)[number]

/** How each driver is named wherever a lab's hypervisor is shown. */
export const HYPERVISOR_NAMES: Record<HypervisorKind, string> = { qemu: 'QEMU/KVM', xen: 'XenServer/XCP-ng (xe)', xl: 'Xen (xl toolstack)' }

/** What a user should know about each driver before choosing it. */
export const HYPERVISOR_NOTES: Record<HypervisorKind, string> = {
  qemu: 'QEMU through QMP over SSH; run against the demo lab in every test.',
  xen: 'xe on each XenServer/XCP-ng host: contract-tested against a mock pool only, not run against a real pool.',
  xl: 'xl on each Xen dom0 over SSH; run against the Xen demo lab (two Xen 4.17 hosts under QEMU).',
}

export interface Lab {
  id: number
  name: string
  kind: LabKind
  description: string
  hypervisor: HypervisorKind
  createdAt: string
  nodes: LabNode[]
}

export type AuthKind = 'key' | 'agent' | 'password'

/** How MigLab authenticates to a node. Never holds a secret: passwords and passphrases live elsewhere. */
export interface NodeAuth {
  kind: AuthKind
  /** Private key file on this machine (kind 'key'). */
  keyPath?: string
}

export interface LabNode {
  id: number
  labId: number
  name: string
  host: string
  port: number
  user: string
  auth: NodeAuth
  jumpHost?: string
  /** Facts gathered by preflight (OS, CPU, RAM…), absent until the first check. */
  facts?: Record<string, unknown>
  /** The last preflight checklist, absent until the first check. */
  preflight?: { at: string; checks: PreflightCheck[] }
}

/** A host found in an OpenSSH client config (~/.ssh/config), ready to become a node. */
export interface SshConfigCandidate {
  /** The Host alias. */
  name: string
  host: string
  port: number
  user: string
  /** IdentityFile, with ~ expanded. */
  keyPath?: string
  /** ProxyJump as written (an alias or [user@]host[:port]). */
  jumpHost?: string
}

/** An open SSH connection to a node and the host key it was accepted with. */
export interface NodeConnection {
  nodeId: number
  host: string
  port: number
  user: string
  algorithm: string
  /** SHA256:… exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string
}

export interface TrustedHostKey {
  host: string
  port: number
  algorithm: string
  fingerprint: string
  trustedAt: string
}

export type CheckStatus = 'pass' | 'warn' | 'fail'

/** One line of a node's preflight checklist. */
export interface PreflightCheck {
  id: string
  label: string
  status: CheckStatus
  /** What was found, as a person would say it. */
  found: string
  /** What to do when it is not a pass. */
  hint?: string
}

/** What preflight learned about a node (stored as the node's facts). */
export type NodeFacts = {
  hostname: string
  os: string
  kernel: string
  cpuModel: string
  cpus: number
  virtFlags: string[]
  kvm: 'absent' | 'present' | 'writable'
  memTotalBytes: number
  memAvailableBytes: number
  disks: { path: string; freeBytes: number; sizeBytes: number }[]
  nics: { name: string; state: string; speedMbps: number | null; mac: string }[]
  /** Tool name → its path on the node, or null when missing. */
  tools: Record<string, string | null>
  /** Node clock minus this machine's clock, ± half the round trip (null if unreadable). */
  clock: { offsetMs: number; uncertaintyMs: number } | null
}

export interface PreflightReport {
  nodeId: number
  at: string
  checks: PreflightCheck[]
  facts: NodeFacts
}

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'

export interface JobInfo {
  id: string
  kind: string
  title: string
  status: JobStatus
  /** 0..1, or null while the job cannot tell. */
  progress: number | null
  /** The step the job is on, as a person would say it. */
  step: string
  startedAt: string
  endedAt?: string
  error?: { code: string; message: string }
  /** What the job produced (e.g. the lab id), once it succeeded. */
  result?: unknown
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'

export interface RunSummary {
  id: number
  labId: number | null
  vm: string
  strategy: string
  workload: string
  status: RunStatus
  startedAt: string
  endedAt?: string
  metrics: Record<string, number>
  tags: string[]
}

/** Where node passwords and passphrases are kept, in words the UI shows next to the fields. */
export interface SecretStoreInfo {
  /** 'memory': gone when MigLab stops; 'keyring': sealed by the OS keyring in a file. */
  kind: 'memory' | 'keyring'
  /** One sentence for the user. */
  note: string
}

export interface AppInfo {
  version: string
  door: 'desktop' | 'browser'
  dataDir: string
  dbPath: string
  platform: string
  secrets: SecretStoreInfo
}

export interface DoctorCheck {
  id: string
  label: string
  status: 'ok' | 'warn' | 'missing'
  found: string
  /** What to do when it is not ok. */
  hint?: string
}

export interface LogLine {
  at: string
  level: 'info' | 'warn' | 'error'
  message: string
  jobId?: string
  runId?: number
}

/** The demo lab as a whole: every piece present and answering, some of it, or none. */
export type DemoLabState = 'up' | 'partial' | 'down'

export interface DemoLabNodeStatus {
  name: string
  ip: string
  namespace: string
  /** The node's sshd process is alive (pid file, not a zombie). */
  sshdRunning: boolean
  /** A TCP connection to ip:22 from MigLab's own namespace succeeded within a second. */
  reachable: boolean
}

export interface DemoLabStatus {
  state: DemoLabState
  /** Every namespace, link and /dev/shm file of this lab starts with it. */
  prefix: string
  subnet: string
  managementIp: string
  guestIp: string
  /** Accelerator the lab's guests use, known once the lab was brought up. */
  accel: 'kvm' | 'tcg' | null
  /** The `demo` lab in the store, once registered. */
  labId: number | null
  nodes: DemoLabNodeStatus[]
  /** What is missing or dead, in words, when the state is not `up`. */
  problems: string[]
}
