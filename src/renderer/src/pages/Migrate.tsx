import { NeedsLab } from './NeedsLab'

export const MigratePage = () => (
  <NeedsLab title="Migrate" about="Launch live migrations with a chosen strategy and guest workload, measured by the hypervisor and by an external probe." />
)
