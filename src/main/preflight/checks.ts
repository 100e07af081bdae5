import type { NodeFacts, PreflightCheck } from '../../shared/domain'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const size = (b: number): string => (b >= GiB ? `${(b / GiB).toFixed(1)} GiB` : `${Math.round(b / MiB)} MiB`)

/** Clock offsets beyond this (after the measurement's own uncertainty) skew cross-node timings. */
const CLOCK_WARN_MS = 50

/** Turns a node's facts into the pass/warn/fail checklist the UI shows. */
export function checklist(f: NodeFacts, user: string): PreflightCheck[] {
  const checks: PreflightCheck[] = []
  const add = (c: PreflightCheck): number => checks.push(c)

  const linux = f.kernel.startsWith('Linux')
  add({
    id: 'os',
    label: 'Operating system',
    status: linux ? 'pass' : 'fail',
    found: [f.os, f.kernel].filter(Boolean).join(', ') || 'unknown',
    ...(linux ? {} : { hint: 'MigLab nodes must run Linux.' }),
  })

  const virt = f.virtFlags.length > 0
  add({
    id: 'cpu',
    label: 'CPU and virtualisation',
    status: virt ? 'pass' : 'warn',
    found: `${f.cpuModel || 'unknown CPU'}, ${f.cpus} CPUs, ${virt ? f.virtFlags.join('/') : 'no vmx/svm flag'}`,
    ...(virt ? {} : { hint: 'Without hardware virtualisation VMs run under TCG emulation: slow, but migrations still work.' }),
  })

  add(
    f.kvm === 'writable'
      ? { id: 'kvm', label: 'KVM', status: 'pass', found: '/dev/kvm present and writable, but untested', hint: 'A VM start tries KVM and falls back to TCG if it fails.' }
      : f.kvm === 'present'
        ? { id: 'kvm', label: 'KVM', status: 'warn', found: `/dev/kvm present but not writable by ${user}`, hint: `Add ${user} to the kvm group, or connect as root.` }
        : { id: 'kvm', label: 'KVM', status: 'warn', found: '/dev/kvm absent', hint: 'VMs will run under TCG emulation. Load kvm_intel/kvm_amd if the CPU supports it.' },
  )

  const avail = f.memAvailableBytes
  add({
    id: 'memory',
    label: 'Memory',
    status: avail >= GiB ? 'pass' : avail >= 512 * MiB ? 'warn' : 'fail',
    found: `${size(avail)} available of ${size(f.memTotalBytes)}`,
    ...(avail >= GiB ? {} : { hint: 'Guests need their RAM on both nodes during a migration; free memory or use smaller guests.' }),
  })

  for (const path of ['/', '/var/lib']) {
    const d = f.disks.find((x) => x.path === path)
    const free = d?.freeBytes ?? 0
    add({
      id: `disk:${path}`,
      label: `Free disk on ${path}`,
      status: !d ? 'warn' : free >= 5 * GiB ? 'pass' : free >= GiB ? 'warn' : 'fail',
      found: d ? `${size(free)} free of ${size(d.sizeBytes)}` : 'could not read',
      ...(d && free >= 5 * GiB ? {} : { hint: 'Guest images and run artefacts need a few GiB.' }),
    })
  }

  const up = f.nics.filter((n) => n.state === 'up' || n.state === 'unknown')
  add({
    id: 'network',
    label: 'Network interfaces',
    status: up.length > 0 ? 'pass' : 'fail',
    found: f.nics.map((n) => `${n.name} ${n.state}${n.speedMbps ? ` ${n.speedMbps} Mb/s` : ''}`).join(', ') || 'none',
    ...(up.length > 0 ? {} : { hint: 'No interface is up besides loopback.' }),
  })

  const have = (names: string[]): string[] => names.filter((t) => f.tools[t])
  const hv = have(['qemu-system-x86_64', 'xe'])
  add({
    id: 'hypervisor',
    label: 'Hypervisor tools',
    status: hv.length ? 'pass' : 'fail',
    found: hv.length ? hv.map((t) => f.tools[t]).join(', ') : 'neither qemu-system-x86_64 nor xe',
    ...(hv.length ? {} : { hint: 'Install qemu-system-x86 (Debian/Ubuntu), or use a XenServer/XCP-ng host with xe.' }),
  })
  const mpi = have(['mpirun'])
  add({
    id: 'mpi',
    label: 'MPI',
    status: mpi.length ? 'pass' : 'warn',
    found: mpi.length ? f.tools.mpirun! : 'mpirun missing',
    ...(mpi.length ? {} : { hint: 'Only MPI workloads need it: apt-get install openmpi-bin.' }),
  })
  const nfs = have(['showmount', 'nfs-ls', 'ganesha.nfsd'])
  add({
    id: 'nfs',
    label: 'NFS tools',
    status: nfs.length ? 'pass' : 'warn',
    found: nfs.length ? nfs.join(', ') : 'none of showmount, nfs-ls, ganesha.nfsd',
    ...(nfs.length ? {} : { hint: 'Shared storage needs an NFS client or server: nfs-common, libnfs-utils or nfs-ganesha.' }),
  })

  const c = f.clock
  const skewed = c !== null && Math.abs(c.offsetMs) - c.uncertaintyMs > CLOCK_WARN_MS
  add({
    id: 'clock',
    label: 'Clock offset to this machine',
    status: c === null || skewed ? 'warn' : 'pass',
    found: c === null ? 'could not read the node clock' : `${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs.toFixed(1)} ms ± ${c.uncertaintyMs.toFixed(1)} ms`,
    ...(c === null || skewed ? { hint: 'Run NTP (e.g. chrony) on every node: timings across nodes need synchronised clocks.' } : {}),
  })
  return checks
}
