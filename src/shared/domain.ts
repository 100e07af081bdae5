/** Domain types shared by the core, the doors and the renderer. Plain data only. */

export type LabKind = 'demo' | 'real'

export interface Lab {
  id: number
  name: string
  kind: LabKind
  description: string
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

export interface AppInfo {
  version: string
  door: 'desktop' | 'browser'
  dataDir: string
  dbPath: string
  platform: string
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
