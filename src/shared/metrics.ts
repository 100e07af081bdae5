/**
 * Every figure and time series a run can store, declared once: the runner, CLI tables, exports,
 * charts and compare all read their keys, labels and units from here, so they never drift apart.
 * A figure a driver cannot measure is absent from a run (never 0); `drivers` says who provides it.
 */

export type Unit = 'ms' | 'bytes' | 'count' | 'flag'
/** Who measured it: the hypervisor, MigLab's own probe (a client's view), the nodes' NICs, or MigLab's clock. */
export type Side = 'hypervisor' | 'client' | 'nodes' | 'miglab'
/** qemu (QMP), xen (XenServer/XCP-ng through xe), xl (Xen Project's xl toolstack). */
export type DriverKind = 'qemu' | 'xen' | 'xl'

export interface MetricDef {
  key: string
  label: string
  /** Column heading for narrow tables. */
  short: string
  unit: Unit
  side: Side
  drivers: readonly DriverKind[]
  /** How it was measured, in a sentence a reader of a chart needs. */
  source: string
  /** Shown in comparisons, CLI tables and charts by default. */
  headline?: boolean
  /** Why a driver outside `drivers` has no such figure: what a run, a chart and a comparison say instead of a value. */
  absent?: Partial<Record<DriverKind, string>>
}

const ALL: readonly DriverKind[] = ['qemu', 'xen', 'xl']

export const METRICS: readonly MetricDef[] = [
  { key: 'qemu_downtime_ms', label: 'Hypervisor downtime', short: 'QEMU downtime', unit: 'ms', side: 'hypervisor', drivers: ['qemu'], source: "QEMU's own figure (whole ms: 0 means under 1 ms)", headline: true, absent: { xl: 'libxl reports no downtime: the client-observed gap is the measure', xen: 'xe reports no downtime; only the probe can tell' } },
  { key: 'stop_resume_ms', label: 'STOP → RESUME', short: 'STOP→RESUME', unit: 'ms', side: 'hypervisor', drivers: ['qemu'], source: 'QMP events, source stop to destination resume, on one timeline', headline: true, absent: { xl: 'xl prints no line when the source domain is suspended, so there is no STOP to pair with the start', xen: 'no STOP/RESUME events under xapi' } },
  { key: 'probe_gap_ms', label: 'Client-observed gap', short: 'client gap', unit: 'ms', side: 'client', drivers: ALL, source: 'external UDP probe: silence across the switchover, last reply before STOP → first after RESUME', headline: true },
  { key: 'total_ms', label: 'Total migration time', short: 'total', unit: 'ms', side: 'hypervisor', drivers: ALL, source: "the hypervisor's total time (QEMU total-time; xapi task created → finished; xl migrate started → its \"Migration successful\" line)", headline: true },
  { key: 'xl_stream_ms', label: 'xl phases: memory stream', short: 'xl stream', unit: 'ms', side: 'hypervisor', drivers: ['xl'], source: 'xl migrate\'s lines as they arrived: "Ready to receive domain" → "Restore successful" (the domain\'s memory sent and restored)' },
  { key: 'xl_attach_ms', label: 'xl phases: device attach', short: 'xl attach', unit: 'ms', side: 'hypervisor', drivers: ['xl'], source: 'xl migrate\'s lines as they arrived: "Restore successful" → "Transfer complete" (devices attached on the target, mostly the vif-bridge script)' },
  { key: 'xl_start_ms', label: 'xl phases: permission and start', short: 'xl start', unit: 'ms', side: 'hypervisor', drivers: ['xl'], source: 'xl migrate\'s lines as they arrived: "Transfer complete" → "Domain started successfully" on the target' },
  { key: 'transferred_bytes', label: 'Data sent', short: 'sent', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], source: "the hypervisor's migration-stream counter, plus the DSM runtime's page bytes (dsm_bytes) for DSM over the network", headline: true, absent: { xl: 'libxl reports no byte count for the migration stream: see the NIC counters of both dom0s', xen: 'xe does not report it; see the NIC counters' } },
  { key: 'passes', label: 'Passes', short: 'passes', unit: 'count', side: 'hypervisor', drivers: ['qemu'], source: 'dirty-memory sync rounds', absent: { xl: 'libxl reports no iteration count', xen: 'xe does not report pre-copy iterations' } },
  { key: 'setup_ms', label: 'Setup time', short: 'setup', unit: 'ms', side: 'hypervisor', drivers: ['qemu'], source: "the hypervisor's setup phase", absent: { xl: 'libxl reports no setup phase' } },
  { key: 'dsm_bytes', label: 'DSM runtime bytes', short: 'DSM sent', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], source: "MigLab's DSM runtime: page bytes it sent to the replica during the run, every round and the final sync (counted in data sent)" },
  { key: 'dsm_rounds', label: 'DSM background rounds', short: 'DSM rounds', unit: 'count', side: 'hypervisor', drivers: ['qemu'], source: "MigLab's DSM runtime: background rounds before the final sync" },
  { key: 'dsm_presync_ms', label: 'DSM pre-sync', short: 'DSM pre-sync', unit: 'ms', side: 'miglab', drivers: ['qemu'], source: 'runtime start (mpirun) to QEMU asked to migrate, after the background rounds' },
  { key: 'dsm_final_sync_ms', label: 'DSM final sync', short: 'final sync', unit: 'ms', side: 'hypervisor', drivers: ['qemu'], source: "the runtime's own time for the final sync (hash every page, send the changed ones, replica acknowledged), part of the downtime" },
  { key: 'dsm_final_wait_ms', label: 'DSM final sync as waited', short: 'final wait', unit: 'ms', side: 'miglab', drivers: ['qemu'], source: "MigLab's clock from asking the runtime for the final sync to its reply (adds the SSH and mpirun hops), part of the downtime" },
  { key: 'dsm_final_bytes', label: 'DSM final sync bytes', short: 'final bytes', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], source: 'pages the final sync moved' },
  { key: 'clock_uncertainty_ms', label: 'Clock uncertainty', short: '± clock', unit: 'ms', side: 'miglab', drivers: ALL, source: 'how far node events may be off on the run timeline (0: the same kernel clock)' },
  { key: 'src_tx_bytes', label: 'Source NIC sent', short: 'src NIC tx', unit: 'bytes', side: 'nodes', drivers: ALL, source: "interface counters on the source node: the data on the wire, whatever the hypervisor reports (every driver has it)", headline: true },
  { key: 'src_rx_bytes', label: 'Source NIC received', short: 'src NIC rx', unit: 'bytes', side: 'nodes', drivers: ALL, source: 'interface counters on the source node' },
  { key: 'dst_tx_bytes', label: 'Destination NIC sent', short: 'dst NIC tx', unit: 'bytes', side: 'nodes', drivers: ALL, source: 'interface counters on the destination node' },
  { key: 'dst_rx_bytes', label: 'Destination NIC received', short: 'dst NIC rx', unit: 'bytes', side: 'nodes', drivers: ALL, source: 'interface counters on the destination node' },
  { key: 'probe_gap_start_ms', label: 'Gap start (last reply)', short: 'gap from', unit: 'ms', side: 'client', drivers: ALL, source: 'run timeline' },
  { key: 'probe_gap_end_ms', label: 'Gap end (first reply)', short: 'gap to', unit: 'ms', side: 'client', drivers: ALL, source: 'run timeline' },
  { key: 'probe_gap_open', label: 'Guest never answered again', short: 'no reply', unit: 'flag', side: 'client', drivers: ALL, source: '1 when no reply came after the gap before the probe stopped' },
  { key: 'probe_longest_silence_ms', label: 'Longest silence during the migration', short: 'longest silence', unit: 'ms', side: 'client', drivers: ALL, source: 'the longest span with unanswered probes anywhere in the migration window (pre-copy starvation, warm-up after resume…)' },
  { key: 'probe_longest_silence_start_ms', label: 'Longest silence start', short: 'silence from', unit: 'ms', side: 'client', drivers: ALL, source: 'run timeline' },
  { key: 'gap_source_silent_ms', label: 'Gap: source silent before STOP', short: 'gap: pre-STOP', unit: 'ms', side: 'nodes', drivers: ALL, source: "last reply → STOP: the source still ran but did not answer (the probe's spacing, a vCPU starved in the last pass)" },
  { key: 'gap_downtime_ms', label: 'Gap: downtime (guest running nowhere)', short: 'gap: down', unit: 'ms', side: 'nodes', drivers: ALL, source: 'STOP → RESUME on the destination (from the last reply when STOP is not known)' },
  { key: 'gap_convergence_ms', label: 'Gap: network convergence', short: 'gap: net', unit: 'ms', side: 'nodes', drivers: ALL, source: "RESUME → first probe delivered to the destination's tap (the switch learning the guest's new port)" },
  { key: 'gap_warmup_ms', label: 'Gap: guest warm-up', short: 'gap: warm-up', unit: 'ms', side: 'nodes', drivers: ALL, source: "first probe at the destination's tap → the guest's first reply on it" },
  { key: 'gap_return_ms', label: 'Gap: way back to the probe', short: 'gap: back', unit: 'ms', side: 'nodes', drivers: ALL, source: "the guest's first reply on the destination's tap → read by MigLab's probe" },
  { key: 'gap_announce_ms', label: 'Announce after RESUME', short: 'announce', unit: 'ms', side: 'nodes', drivers: ALL, source: "RESUME → the guest's first RARP/ARP announce on the destination's tap" },
  { key: 'probe_sent', label: 'Probe datagrams sent', short: 'probes', unit: 'count', side: 'client', drivers: ALL, source: 'external UDP probe' },
  { key: 'probe_lost', label: 'Probe replies lost', short: 'lost', unit: 'count', side: 'client', drivers: ALL, source: 'external UDP probe' },
  { key: 'probe_late', label: 'Probe replies late', short: 'late', unit: 'count', side: 'client', drivers: ALL, source: 'replies slower than 250 ms' },
  { key: 'probe_baseline_gap_ms', label: 'Probe gap before migration', short: 'baseline gap', unit: 'ms', side: 'client', drivers: ALL, source: 'longest silence between replies before the migration started (kept apart from the gap)' },
  { key: 'probe_baseline_clean', label: 'Clean probe baseline', short: 'clean', unit: 'flag', side: 'client', drivers: ALL, source: '1 when replies flowed without a long silence before the migration' },
  { key: 'boot_ms', label: 'Guest boot', short: 'boot', unit: 'ms', side: 'miglab', drivers: ALL, source: 'start to the guest ready marker' },
  { key: 'wall_ms', label: 'Wall time of the migration call', short: 'wall', unit: 'ms', side: 'miglab', drivers: ALL, source: "MigLab's clock around the driver call" },
  { key: 'run_wall_ms', label: 'Wall time of the whole run', short: 'run wall', unit: 'ms', side: 'miglab', drivers: ALL, source: "MigLab's clock from run start to its end (boot, probe, migration, checks)" },
  { key: 'partial', label: 'Derived after an interruption', short: 'partial', unit: 'flag', side: 'miglab', drivers: ALL, source: '1 when the run was interrupted and its figures were derived from what it stored' },
]

export const metricDef = (key: string): MetricDef | undefined => METRICS.find((m) => m.key === key)
export const HEADLINE_METRICS: readonly MetricDef[] = METRICS.filter((m) => m.headline)
/** Every figure `driver` cannot measure, with the reason a run stores instead of a value. */
export const absentReasons = (driver: DriverKind): Record<string, string> =>
  Object.fromEntries(METRICS.flatMap((m) => (m.absent?.[driver] ? [[m.key, m.absent[driver]]] : [])))
/** Data sent, best source first: the hypervisor's own counter, else the source NIC's (which every driver has). */
export const DATA_SENT_KEYS = ['transferred_bytes', 'src_tx_bytes'] as const
/**
 * The event kind of a hypervisor's migration phases as it reported them (data: phase, label, line),
 * drawn as the run's phase timeline whatever the driver.
 */
export const PHASE_EVENT = 'hypervisor.phase'
/** The three downtimes: different truths, always shown side by side and named the same way. */
export const DOWNTIME_KEYS = ['qemu_downtime_ms', 'stop_resume_ms', 'probe_gap_ms'] as const
/** The client-observed gap's consecutive parts (packet capture): those present add up to `probe_gap_ms`. */
export const GAP_PARTS = ['gap_source_silent_ms', 'gap_downtime_ms', 'gap_convergence_ms', 'gap_warmup_ms', 'gap_return_ms'] as const

/** What a series means whatever the hypervisor: views and crash recovery ask for a role, never a driver's key. */
export type SeriesRole = 'sent' | 'remaining' | 'ram' | 'dirty_rate' | 'bandwidth' | 'pass' | 'expected_downtime' | 'progress'

export interface SeriesDef {
  key: string
  label: string
  unit: Unit | 'pages/s' | 'Mbit/s' | '%'
  side: Side
  drivers: readonly DriverKind[]
  role?: SeriesRole
}

export const SERIES: readonly SeriesDef[] = [
  { key: 'qemu.transferred_bytes', label: 'sent', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], role: 'sent' },
  { key: 'qemu.remaining_bytes', label: 'remaining', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], role: 'remaining' },
  { key: 'qemu.total_bytes', label: 'guest RAM', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'], role: 'ram' },
  { key: 'qemu.dirty_pages_rate', label: 'dirty pages/s', unit: 'pages/s', side: 'hypervisor', drivers: ['qemu'], role: 'dirty_rate' },
  { key: 'qemu.mbps', label: 'bandwidth', unit: 'Mbit/s', side: 'hypervisor', drivers: ['qemu'], role: 'bandwidth' },
  { key: 'qemu.pass', label: 'pass', unit: 'count', side: 'hypervisor', drivers: ['qemu'], role: 'pass' },
  { key: 'qemu.postcopy_requests', label: 'post-copy page requests', unit: 'count', side: 'hypervisor', drivers: ['qemu'] },
  { key: 'qemu.expected_downtime_ms', label: 'expected downtime', unit: 'ms', side: 'hypervisor', drivers: ['qemu'], role: 'expected_downtime' },
  { key: 'qemu.cpu_throttle_pct', label: 'CPU throttle', unit: '%', side: 'hypervisor', drivers: ['qemu'] },
  // The DSM runtime, one point per round as its line arrives: cumulative bytes, the round's pages and time.
  { key: 'dsm.bytes', label: 'DSM bytes sent', unit: 'bytes', side: 'hypervisor', drivers: ['qemu'] },
  { key: 'dsm.round_pages', label: 'DSM pages per round', unit: 'count', side: 'hypervisor', drivers: ['qemu'] },
  { key: 'dsm.round_ms', label: 'DSM round time', unit: 'ms', side: 'hypervisor', drivers: ['qemu'] },
  // `xe task-param-get … param-name=progress` (0–1) × 100.
  { key: 'xen.progress', label: 'xapi task progress', unit: '%', side: 'hypervisor', drivers: ['xen'], role: 'progress' },
  // Stamped at the datagram's send time; its reply arrived value ms later.
  { key: 'probe.rtt_ms', label: 'probe RTT', unit: 'ms', side: 'client', drivers: ALL },
  // Frames on the guest's tap around the gap (value: 1 probe request, 2 reply, 3 announce), from tcpdump.
  { key: 'wire.source', label: "frames on the source's tap", unit: 'count', side: 'nodes', drivers: ALL },
  { key: 'wire.destination', label: "frames on the destination's tap", unit: 'count', side: 'nodes', drivers: ALL },
  // One point per probe that was never answered, at its send time.
  { key: 'probe.lost', label: 'probe lost', unit: 'count', side: 'client', drivers: ALL },
]

export const seriesDef = (key: string): SeriesDef | undefined => SERIES.find((s) => s.key === key)

type Points = [number, number][]

/** The key of the run's series playing `role` (the first the registry declares that the run has). */
export const roleKey = (samples: Record<string, Points>, role: SeriesRole): string | undefined => SERIES.find((s) => s.role === role && samples[s.key])?.key

/** The run's points for `role`, or none when its driver does not measure it. */
export function roleSeries(samples: Record<string, Points> | undefined, role: SeriesRole): Points {
  const key = samples && roleKey(samples, role)
  return key ? samples[key] : []
}

/** A metric's value as a reader sees it, with its unit. */
export function formatMetric(key: string, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—'
  const unit = metricDef(key)?.unit
  if (unit === 'bytes') return `${(v / 1048576).toFixed(1)} MiB`
  if (unit === 'ms') return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v * 10) / 10} ms`
  if (unit === 'flag') return v ? 'yes' : 'no'
  return String(Math.round(v * 100) / 100)
}
