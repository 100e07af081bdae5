import type { Lab } from '../../../shared/domain'

/** The labs as the options of a lab picker (the Migrate form's, the Setup page's), by id. */
export const LabOptions = ({ labs }: { labs: readonly Lab[] }) => (
  <>
    {labs.map((l) => (
      <option key={l.id} value={l.id}>
        {l.name}
      </option>
    ))}
  </>
)
