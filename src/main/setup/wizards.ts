import type { WizardId } from '../../shared/contract/setup'
import type { Wizard } from './engine'
import { qemuWizard } from './qemu'

/** Every wizard MigLab offers, in the order the Setup page shows them. */
export const wizards: Partial<Record<WizardId, Wizard>> = {
  qemu: qemuWizard,
}
