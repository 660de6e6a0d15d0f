// Preloaded into the Pave child process by the benchmarks (node --expose-gc --import ...).
// On SIGUSR2 it runs a full GC and writes process.memoryUsage() to $BENCH_MEM_FILE, so the
// bench can read a steady RSS from /proc/<pid>/status without Pave exposing anything.
import fs from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const file = process.env.BENCH_MEM_FILE;
  if (file) fs.writeFileSync(file, JSON.stringify({ gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
});
