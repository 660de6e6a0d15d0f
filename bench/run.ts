// Entry of `npm run bench`: runs every benchmark in turn. Benchmarks print figures and never
// assert; see each file for its settings (BENCH_SIZES, BENCH_BACKENDS, ...).
import { cleanupAll } from './lib.ts';
import { runAuthBench } from './auth.ts';
import { runCatalogBench } from './catalog.ts';
import { runSearchBench } from './search.ts';
import { runDocsBench } from './docs.ts';
import { runScaffolderBench } from './scaffolder.ts';

const benches: [string, () => Promise<void>][] = [
  ['catalog', runCatalogBench],
  ['auth', runAuthBench],
  ['search', runSearchBench],
  ['docs', runDocsBench],
  ['scaffolder', runScaffolderBench],
];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());

let failed = false;
try {
  for (const [name, run] of benches) {
    if (only && !only.includes(name)) continue;
    try {
      await run();
    } catch (e) {
      failed = true;
      console.error(`bench ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
} finally {
  await cleanupAll();
}
process.exitCode = failed ? 1 : 0;
