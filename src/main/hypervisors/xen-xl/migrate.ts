import { MigLabError, toApiError } from '../../../shared/errors'
import { absentReasons, PHASE_EVENT } from '../../../shared/metrics'
import * as xl from '../../remote/xl'
import type { MigrateHooks, MigrationOutcome, VmSpec } from '../driver'
import { execOk, type NodeLink } from '../node-link'
import { specPath, configPath } from './domain-config'
import type { XlDriver } from './driver'
import { baseName, lineSplitter, phaseFigures, phaseLabel, phaseOf, type XlPhase } from './xl-parse'

/** Time for the whole `xl migrate` (measured 14–63 s under TCG, slower with a busy probe or guest). */
const MIGRATE_TIMEOUT_MS = 600_000

/**
 * Where the VM is now, made exactly one running copy: a half-received copy on the destination is
 * destroyed, a source copy left paused is resumed. 'to' only when the destination holds the whole
 * domain and the source none (a migration that completed is never rolled back).
 */
export async function settle(driver: XlDriver, vm: string, from: NodeLink, to: NodeLink): Promise<'from' | 'to'> {
  const [src, dst] = await Promise.all([driver.domains(from), driver.domains(to)])
  const mine = (d: { name: string }) => baseName(d.name).vm === vm
  const onFrom = src.filter(mine)
  const onTo = dst.filter(mine)
  const whole = onTo.find((d) => d.name === vm && d.state !== 'paused')
  if (onFrom.length === 0 && whole) return 'to'
  for (const d of onTo) await execOk(to, xl.xlDestroy(d.name), `Destroying the destination's copy "${d.name}"`, { timeoutMs: 60_000 })
  const source = onFrom.find((d) => d.name === vm) ?? onFrom[0]
  if (!source) throw new MigLabError('vm_lost', `VM "${vm}" runs on neither ${from.name} nor ${to.name} after the migration.`, { hint: 'Check `xl list` and the console logs on both dom0s.' })
  if (source.state === 'paused') await execOk(from, xl.xlUnpause(source.name), `Resuming "${source.name}" on the source`, { timeoutMs: 60_000 })
  return 'from'
}

/**
 * `xl migrate` from the source dom0 (it runs `ssh <dst> xl migrate-receive` itself), each output line
 * stamped on the run timeline as it arrives and stored as an event; phase times come from those stamps.
 */
export async function runXlMigration(driver: XlDriver, vm: string, from: NodeLink, to: NodeLink, hooks: MigrateHooks): Promise<MigrationOutcome> {
  const spec = (await driver.listVms([from])).find((v) => v.spec.name === vm && v.state === 'running')?.spec
  const [here, there] = await Promise.all([driver.domains(from), driver.domains(to)])
  if (!here.some((d) => d.name === vm)) throw new MigLabError('vm_not_found', `VM "${vm}" does not run on ${from.name}.`, { hint: 'Start it there first.' })
  if (there.some((d) => baseName(d.name).vm === vm)) {
    throw new MigLabError('vm_already_running', `VM "${vm}" already has a domain on ${to.name}: migrating would make two.`, { hint: `Destroy the copy on ${to.name} first.` })
  }

  const seen: Partial<Record<XlPhase, number>> = {}
  const lines: { tMs: number; line: string }[] = []
  const onLine = (line: string) => {
    const tMs = hooks.clock()
    // A phase is announced once on the timeline (sender and target both print "permission").
    const found = phaseOf(line)
    const phase = found && seen[found] === undefined ? found : undefined
    lines.push({ tMs, line })
    if (phase) seen[phase] = tMs
    hooks.onEvent?.({ tMs, kind: phase ? PHASE_EVENT : 'xl.output', node: from.name, data: phase ? { phase, label: phaseLabel(phase), line } : { line } })
  }
  const out = lineSplitter(onLine)
  const err = lineSplitter(onLine)
  const startedAt = hooks.clock()
  hooks.onEvent?.({ tMs: startedAt, kind: PHASE_EVENT, node: from.name, data: { phase: 'begin', label: phaseLabel('begin'), line: xl.xlMigrate(vm, to.address).text } })
  let failure: unknown
  let code: number | null = null
  try {
    const r = await from.exec(xl.xlMigrate(vm, to.address), { timeoutMs: MIGRATE_TIMEOUT_MS, signal: hooks.signal, onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) })
    code = r.code
  } catch (e) {
    failure = e
  }
  out.end()
  err.end()

  const where = await settle(driver, vm, from, to)
  const figures = phaseFigures(seen, startedAt)
  const tail = lines.slice(-12).map((l) => l.line).join('\n')
  if (where === 'to') {
    // The definition moves with the domain, so listing and reuse find it on the destination.
    if (spec) await execOk(to, xl.writeSpec(specPath(vm), JSON.stringify(spec as VmSpec)), 'Storing the VM definition on the destination', { timeoutMs: 60_000 })
    await execOk(from, xl.removeFiles(specPath(vm), configPath(vm)), 'Removing the VM definition from the source', { timeoutMs: 60_000 }).catch(() => undefined)
    return {
      figures,
      unmeasured: { ...absentReasons('xl'), ...(figures.total_ms === undefined ? { total_ms: 'xl printed no "Migration successful" line' } : {}) },
      // The domain started on the destination when its "Domain started" line arrived here (a little after).
      ...(seen.started !== undefined ? { resumeAtMs: seen.started } : {}),
      raw: { exitCode: code, phases: seen, lines: lines.length, ...(failure ? { error: toApiError(failure).message } : {}) },
    }
  }
  if (failure && toApiError(failure).code === 'cancelled') throw failure
  throw new MigLabError(
    'migration_failed',
    `xl migrate of "${vm}" from ${from.name} to ${to.name} failed${seen.failed !== undefined ? ' ("Migration failed, resuming at sender")' : failure ? `: ${toApiError(failure).message}` : ` (exit ${code})`}; the VM runs on ${from.name}.`,
    { command: xl.xlMigrate(vm, to.address).text, stderrTail: tail, figures, phases: seen },
  )
}
