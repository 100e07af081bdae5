import type { WizardId } from '../../shared/contract/setup'
import type { Wizard } from './engine'
import { mpiWizard } from './mpi'
import { nfsWizard } from './nfs'
import { qemuWizard } from './qemu'
import { xcpngWizard } from './xcpng'
import { xenWizard } from './xen'

/** Every wizard MigLab offers, in the order the Setup page shows them. */
export const wizards: Partial<Record<WizardId, Wizard>> = {
  qemu: qemuWizard,
  xcpng: xcpngWizard,
  xen: xenWizard,
  nfs: nfsWizard,
  mpi: mpiWizard,
}
