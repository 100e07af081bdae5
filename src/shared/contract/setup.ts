import { z } from 'zod'
import type { ApiError } from '../errors'
import type { JobInfo } from '../domain'
import { id } from './app'
import { hostName, userName } from './nodes'

/** Contract of the setup wizards: step catalogues run by one engine (check → apply → verify, dry run). */
export const wizardIds = ['qemu', 'xen', 'xcpng', 'nfs', 'mpi'] as const
export type WizardId = (typeof wizardIds)[number]

/** What happened to one step on one node (or the lab) in one run. */
/** 'skipped': an optional step with nothing to work on (e.g. no Grappa source given), with the reason. */
export type StepOutcome = 'already_done' | 'applied' | 'would_change' | 'not_checkable' | 'failed' | 'not_run' | 'skipped'

export interface SetupStepResult {
  step: string
  title: string
  /** The node's name; null for a lab-wide step. */
  node: string | null
  outcome: StepOutcome
  /** What check found (or why it could not look). */
  found: string
  /** What apply would change / changed. */
  change?: string
  /** Every command apply runs, `node: text`, exactly as it runs there (secrets go on stdin, never here). */
  commands: string[]
  facts?: Record<string, unknown>
  error?: ApiError
}

export interface SetupRunReport {
  wizard: WizardId
  labId: number
  dryRun: boolean
  ok: boolean
  steps: SetupStepResult[]
}

/** The stored state of one step: its latest result, and when it was last found done. */
export interface StoredStep extends SetupStepResult {
  at: string
  doneAt: string | null
}

export type WizardState = 'not_started' | 'partial' | 'done' | 'drifted'

export interface WizardStatus {
  id: WizardId
  title: string
  about: string
  /** The catalogue: step ids and titles, in order, and whether each runs per node or once. */
  catalogue: { id: string; title: string; scope: 'node' | 'lab' }[]
  state: WizardState
  steps: StoredStep[]
}

const secret = z.string().min(1).max(4096)
/** A path on the nodes: absolute, one line. */
const nodePath = z.string().max(4096).regex(/^\/[^\0\n]*$/, 'an absolute path on the nodes')

/** Options only some wizards read (XCP-ng pool join). The password is never stored or shown. */
export const wizardOptions = z
  .object({
    poolMaster: hostName.optional(),
    poolMasterUser: userName.optional(),
    poolMasterPassword: secret.optional(),
    poolName: z.string().min(1).max(128).optional(),
    /** XCP-ng wizard, optional NFS SR: the export's server and path (e.g. what the NFS wizard made). */
    srServer: hostName.optional(),
    srPath: nodePath.optional(),
    /** MPI wizard, optional Grappa step: its unpacked source tree on every node, and the third-party tarball for an offline build. */
    grappaSource: nodePath.optional(),
    grappaThirdParty: nodePath.optional(),
  })
  .strict()
export type WizardOptions = z.output<typeof wizardOptions>

export const setupInputs = {
  'setup.list': z.object({ labId: id }).strict(),
  /** Dry run: checks only, and lists every command apply would run. Runs as a job either way. */
  'setup.run': z.object({ labId: id, wizard: z.enum(wizardIds), dryRun: z.boolean().default(false), options: wizardOptions.default({}) }).strict(),
  /** "Check again": re-runs only the checks and stores what they find. */
  'setup.check': z.object({ labId: id, wizard: z.enum(wizardIds) }).strict(),
} as const

export interface SetupResults {
  'setup.list': WizardStatus[]
  'setup.run': JobInfo
  'setup.check': JobInfo
}
