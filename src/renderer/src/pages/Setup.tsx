import { NeedsLab } from './NeedsLab'

export const SetupPage = () => (
  <NeedsLab
    title="Setup wizards"
    about="Guided setup of the hypervisor (XCP-ng/XenServer pool or QEMU/KVM), NFS shared storage and the MPI/DSM cluster — every step previewable, idempotent, resumable and verified."
  />
)
