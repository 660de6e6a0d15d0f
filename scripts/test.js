#!/usr/bin/env node
// Runs the whole suite once per store backend (PGlite, then PostgreSQL) with node's test runner,
// and ends with the totals as "N passed, M failed".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { PGlite } from '@electric-sql/pglite';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const backends = (process.env.PAVE_TEST_BACKENDS ?? 'pglite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const only = process.argv.slice(2);
const all = only.length ? only : await fg(['src/**/*.test.ts', 'test/**/*.test.ts'], { cwd: root });
// Files named *.pg.test.ts exercise PostgreSQL itself (several processes on one server): they run in the postgres pass only.
// Files named *.once.test.ts use no store at all (building generated projects): they run in the first pass only.
const filesFor = (backend) =>
  all
    .filter((f) => backend === 'postgres' || !f.endsWith('.pg.test.ts'))
    .filter((f) => backend === backends[0] || !f.endsWith('.once.test.ts'))
    .sort();

// PGlite's first start runs initdb (seconds); tests copy one ready data folder instead.
const template = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-pglite-template-'));
if (backends.includes('pglite')) {
  const db = await PGlite.create(path.join(template, 'pg'));
  await db.close();
}

let passed = 0;
let failed = 0;
for (const backend of backends) {
  const files = filesFor(backend);
  console.log(`\n=== ${backend}: ${files.length} test files ===`);
  const result = await run(files, backend);
  passed += result.pass;
  failed += result.fail;
  console.log(`=== ${backend}: ${result.pass} passed, ${result.fail} failed ===`);
}
fs.rmSync(template, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

function run(files, backend) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.PAVE_TEST_CONCURRENCY ?? 2}`,
        // A test that hangs fails after this long instead of holding the whole run.
        `--test-timeout=${process.env.PAVE_TEST_TIMEOUT_MS ?? 180_000}`, ...files],
      {
        cwd: root,
        env: { ...process.env, PAVE_TEST_BACKEND: backend, PAVE_TEST_PGLITE_TEMPLATE: path.join(template, 'pg') },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // The whole report is kept: the list of failures printed after the totals can be long.
    let report = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      report += chunk.toString();
    });
    child.on('close', (code) => {
      const num = (label) => Number([...report.matchAll(new RegExp(`^ℹ ${label} (\\d+)$`, 'gm'))].pop()?.[1] ?? 0);
      const pass = num('pass');
      let fail = num('fail');
      if (code !== 0 && fail === 0) fail = 1; // the runner itself failed (a file crashed before reporting)
      resolve({ pass, fail });
    });
  });
}
