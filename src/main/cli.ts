import { Command } from 'commander'
import { toApiError } from '../shared/errors'
import { registerVmCommands } from './cli/vm'
import { cliErrorLines } from './cli/words'
import { registerAppCommands } from './cli/app'
import { registerLabCommands } from './cli/lab'
import { registerRunCommands } from './cli/run'
import { registerRunsCommands } from './cli/runs'
import { registerSetupCommands } from './cli/setup'

// CLI entry: each area registers its commands from its own file under cli/.
const program = new Command()
  .name('miglab')
  .description('MigLab — lab manager for live VM migration research (CLI door; same history as the app).')
  .showHelpAfterError()
registerAppCommands(program)
registerLabCommands(program)
registerVmCommands(program)
registerRunCommands(program)
registerRunsCommands(program)
registerSetupCommands(program)

/** `lab up` of `miglab lab up --nodes 9`: the words before the first option, for the help hint. */
const subcommand = (args: string[]): string | undefined => {
  const words = args.slice(0, args.findIndex((a) => a.startsWith('-')) >>> 0).slice(0, 2)
  return words.length ? words.join(' ') : undefined
}

program.parseAsync(process.argv).catch((err: unknown) => {
  for (const line of cliErrorLines(toApiError(err), subcommand(process.argv.slice(2)))) console.error(line)
  process.exit(1)
})
