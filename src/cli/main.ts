import { Command, Option } from 'commander';
import { auditCommands } from './audit.ts';
import { authCommands } from './auth.ts';
import { catalogCommands } from './catalog.ts';
import { searchCommands } from './search.ts';
import { startCommand } from './start.ts';
import { templateCommands } from './template.ts';

const program = new Command('pave')
  .description('Pave: an Internal Developer Platform that reads your Backstage files')
  .showHelpAfterError()
  .addOption(new Option('--server <url>', 'a running Pave to talk to').env('PAVE_SERVER').default('http://localhost:7007'))
  .addOption(new Option('--token <token>', 'API token (default: the one "pave login" saved for the server)').env('PAVE_TOKEN'));

startCommand(program);
catalogCommands(program);
auditCommands(program);
authCommands(program);
searchCommands(program);
templateCommands(program);

program.parseAsync(process.argv).catch((e) => {
  console.error(`pave: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
