import { NeedsLab } from './NeedsLab'

export const TerminalsPage = () => <NeedsLab title="Terminals" about="Terminals on every lab node, for debugging." />
