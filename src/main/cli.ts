import { Command } from 'commander'
import { toApiError } from '../shared/errors'
import { registerAppCommands } from './cli/app'
import { registerLabCommands } from './cli/lab'
import { registerRunCommands } from './cli/run'
import { registerRunsCommands } from './cli/runs'

// CLI entry: each area registers its commands from its own file under cli/.
const program = new Command()
  .name('miglab')
  .description('MigLab — lab manager for live VM migration research (CLI door; same history as the app).')
  .showHelpAfterError()
registerAppCommands(program)
registerLabCommands(program)
registerRunCommands(program)
registerRunsCommands(program)

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = toApiError(err)
  console.error(`miglab: ${e.message}`)
  if (e.detail?.hint) console.error(`  → ${e.detail.hint}`)
  process.exit(1)
})
