import { Command } from 'commander';

export function catalogCommands(program: Command): void {
  program.command('catalog').description('Work with the software catalog');
}
