// Docs: build time of a 200-page site, rendering alone and as a job from registration to served.
//   BENCH_DOCS_PAGES     pages in the site (default 200)
//   BENCH_DOCS_BACKENDS  postgres,pglite (default both)
//   BENCH_DOCS_RUNS      builds measured per backend (default 5)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSiteFromDir } from '../src/docs/index.ts';
import { writeDocsSite } from './docs-site.ts';
import { HttpClient, PaveChild, envInt, envList, freshBenchStore, machine, ms, onCleanup, secs, sleep, stats } from './lib.ts';

const TARGET_MS = 3000;

export async function runDocsBench(): Promise<void> {
  const pages = envInt('BENCH_DOCS_PAGES', 200);
  const backends = envList('BENCH_DOCS_BACKENDS', 'postgres,pglite');
  const runs = envInt('BENCH_DOCS_RUNS', 5);
  console.log('\n# Pave docs benchmark');
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(`machine:  ${machine()}`);
  console.log(`target:   a ${pages}-page site built ≤ ${secs(TARGET_MS)} (read, render, sanitize, store, index)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-bench-docs-'));
  const removeWork = onCleanup(() => fs.rmSync(work, { recursive: true, force: true }));
  try {
    const site = path.join(work, 'site');
    writeDocsSite(site, 'Bench', pages);
    const bytes = fs.readdirSync(path.join(site, 'docs'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).reduce((n, d) => n + fs.statSync(path.join(d.parentPath, d.name)).size, 0);
    console.log(`site:     ${pages} pages, ${(bytes / 1024).toFixed(0)} KiB of Markdown`);

    const render: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const built = await buildSiteFromDir(site, { pageUrl: (p) => `/docs/x/${p}`, assetUrl: (p) => `/a/${p}` });
      render.push(performance.now() - t0);
      if ('problem' in built) throw new Error(`the bench site did not build: ${built.problem.message}`);
    }
    const r = stats(render);
    console.log(`render only (in process, no database): median ${ms(r.median)}, max ${ms(r.max)}`);

    fs.writeFileSync(
      path.join(site, 'catalog-info.yaml'),
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bench-docs\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec: { type: service, lifecycle: production, owner: group-1 }\n',
    );
    for (const backend of backends) {
      const store = await freshBenchStore(backend as 'postgres' | 'pglite');
      const { pave } = await PaveChild.start({ runner: 'build', dataDir: store.dataDir, databaseUrl: store.databaseUrl, logFile: path.join(work, `pave-${backend}.log`), env: { PAVE_DOCS_WATCH_FILES: 'false' } });
      const client = new HttpClient(pave.url, pave.token);
      try {
        const site = async () => client.getJson('/api/docs/default/component/bench-docs').catch(() => undefined);
        const t0 = performance.now();
        await client.request('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'site', 'catalog-info.yaml') });
        let first;
        while (!(first = await site()) || first.status !== 'ready') await sleep(10);
        const firstWall = performance.now() - t0;
        const server: number[] = [];
        const wall: number[] = [];
        for (let i = 0; i < runs; i++) {
          const before = (await site()).lastAttemptAt;
          const t1 = performance.now();
          await client.request('POST', '/api/docs/default/component/bench-docs/build');
          let s;
          while (!(s = await site()) || s.status !== 'ready' || s.lastAttemptAt === before) await sleep(10);
          wall.push(performance.now() - t1);
          server.push(s.buildMs);
        }
        const sv = stats(server);
        const w = stats(wall);
        const met = (x: number) => (x <= TARGET_MS ? 'met' : 'MISSED');
        console.log(`\n## ${backend}`);
        console.log(`first build, registration → site served: ${ms(firstWall)} (target: ${met(firstWall)})`);
        console.log(`rebuild as a job (server-measured build): median ${ms(sv.median)}, max ${ms(sv.max)} (target: ${met(sv.max)})`);
        console.log(`rebuild, POST → new build served (wall):  median ${ms(w.median)}, max ${ms(w.max)}`);
      } finally {
        client.close();
        await pave.stop();
        await store.drop();
      }
    }
  } finally {
    await removeWork();
  }
}
