import { Command, Option } from 'commander';
import { catalogCommands } from './catalog.ts';
import { startCommand } from './start.ts';

const program = new Command('pave')
  .description('Pave: an Internal Developer Platform that reads your Backstage files')
  .showHelpAfterError()
  .addOption(new Option('--server <url>', 'a running Pave to talk to').env('PAVE_SERVER').default('http://localhost:7007'))
  .addOption(new Option('--token <token>', 'API token for a remote Pave').env('PAVE_TOKEN'));

startCommand(program);
catalogCommands(program);

program.parseAsync(process.argv).catch((e) => {
  console.error(`pave: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
