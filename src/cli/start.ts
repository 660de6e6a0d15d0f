import { Command } from 'commander';
import { isPaveError } from '../core/errors.ts';

export function startCommand(program: Command): void {
  program
    .command('start')
    .description('Run Pave: API, portal, job workers (embedded PostgreSQL unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'HTTP port (PAVE_PORT, default 7007)', (v) => Number.parseInt(v, 10))
    .option('-d, --data <dir>', 'data folder of the embedded store (PAVE_DATA_DIR, default ./.pave/data)')
    .option('--no-demo', 'do not load the demo organisation (PAVE_DEMO=false)')
    .option('-c, --config <file>', 'pave.yaml to read (PAVE_CONFIG)')
    .action(async (opts: { port?: number; data?: string; demo: boolean; config?: string }, cmd: Command) => {
      const { startPave } = await import('../app.ts');
      // commander sets demo=true by default; only an explicit --no-demo should override config.
      const demoFlag = cmd.getOptionValueSource('demo') === 'cli' ? opts.demo : undefined;
      let pave;
      try {
        pave = await startPave({ port: opts.port, dataDir: opts.data, demo: demoFlag, configFile: opts.config });
      } catch (e) {
        if (isPaveError(e)) {
          console.error(`pave: ${e.message}`);
          process.exit(2);
        }
        throw e;
      }
      console.log(`Pave is running at ${pave.url} (store: ${pave.store.backend})`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        pave.log.info({ signal }, 'shutting down');
        await pave.stop();
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
    });
}
