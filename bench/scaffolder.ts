// Golden paths: one template run from POST to completed, a burst of 20 runs, a dry-run, and the
// built-in production-microservice from Create to repository pushed and entity in the catalog.
//   BENCH_SCAFFOLDER_BACKENDS  pglite,postgres (default both)
//   BENCH_SCAFFOLDER_RUNS      single runs measured (default 30)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient, PaveChild, ROOT, envInt, envList, freshBenchStore, machine, ms, onCleanup, stats } from './lib.ts';

const TARGETS = { singleMs: 60, burstMs: 600, dryRunMs: 45, createMs: 1000 };
const REFERENCE = "Backstage's scaffolder 4.2 on PostgreSQL, same machine: one run 182 ms median, 20 at once 1.8 s, a dry-run 127 ms";

// The side-by-side template: fetch:template of a 20-file skeleton, catalog:write, debug:log.
const BENCH_TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: bench-skeleton, title: Bench skeleton }
spec:
  owner: group-1
  type: service
  parameters:
    - title: Service
      required: [name]
      properties:
        name: { type: string }
        owner: { type: string, default: group-1 }
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values: { name: '\${{ parameters.name }}', owner: '\${{ parameters.owner }}' }
    - id: write
      name: Write catalog file
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: { name: '\${{ parameters.name }}' }
          spec: { type: service, lifecycle: experimental, owner: '\${{ parameters.owner }}' }
    - id: log
      name: Log
      action: debug:log
      input: { message: 'Made \${{ parameters.name }}' }
`;

/** Waits for a task's completion through the long-polling events API; returns its final status. */
async function completion(client: HttpClient, id: string): Promise<string> {
  let after = 0;
  for (;;) {
    const events: { id: number; type: string; body: { status?: string } }[] = await client.getJson(`/api/scaffolder/v2/tasks/${id}/events?after=${after}`);
    for (const e of events) {
      after = e.id;
      if (e.type === 'completion') return e.body.status ?? 'unknown';
    }
  }
}

async function run(client: HttpClient, templateRef: string, values: Record<string, unknown>): Promise<{ ms: number; status: string }> {
  const t0 = performance.now();
  const res = await client.request('POST', '/api/scaffolder/v2/tasks', { templateRef, values });
  if (res.status !== 201) throw new Error(`POST tasks → ${res.status}: ${res.body}`);
  const status = await completion(client, res.json().id);
  return { ms: performance.now() - t0, status };
}

function filesOf(dir: string): { path: string; base64Content: string }[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const full = path.join(e.parentPath, e.name);
      return { path: path.relative(path.dirname(dir), full).split(path.sep).join('/'), base64Content: fs.readFileSync(full).toString('base64') };
    });
}

export async function runScaffolderBench(): Promise<void> {
  const backends = envList('BENCH_SCAFFOLDER_BACKENDS', 'pglite,postgres');
  const runs = envInt('BENCH_SCAFFOLDER_RUNS', 30);
  console.log('\n# Pave scaffolder benchmark');
  console.log(`date:      ${new Date().toISOString()}`);
  console.log(`machine:   ${machine()}`);
  console.log(`targets:   one run ≤ ${TARGETS.singleMs} ms, 20 at once ≤ ${TARGETS.burstMs} ms, dry-run ≤ ${TARGETS.dryRunMs} ms, built-in Create → pushed and catalogued ≤ ${TARGETS.createMs} ms (PGlite)`);
  console.log(`reference: ${REFERENCE}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-bench-scaffolder-'));
  const removeWork = onCleanup(() => fs.rmSync(work, { recursive: true, force: true }));
  try {
    fs.cpSync(path.join(ROOT, 'src/scaffolder/actions/fixtures/bench-skeleton'), path.join(work, 'skeleton'), { recursive: true });
    fs.writeFileSync(path.join(work, 'template.yaml'), BENCH_TEMPLATE);
    fs.writeFileSync(path.join(work, 'org.yaml'), 'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: team-platform }\nspec: { type: team, children: [] }\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: group-1 }\nspec: { type: team, children: [] }\n');
    const builtIn = path.join(ROOT, 'templates/production-microservice/template.yaml');
    for (const backend of backends) {
      const store = await freshBenchStore(backend as 'postgres' | 'pglite');
      const { pave } = await PaveChild.start({ runner: 'build', dataDir: store.dataDir, databaseUrl: store.databaseUrl, logFile: path.join(work, `pave-${backend}.log`) });
      const client = new HttpClient(pave.url, pave.token);
      try {
        for (const f of ['org.yaml', 'template.yaml']) await client.request('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, f) });
        if (fs.existsSync(builtIn)) await client.request('POST', '/api/catalog/locations', { type: 'file', target: builtIn });
        let n = 0;
        for (let i = 0; i < 5; i++) await run(client, 'template:default/bench-skeleton', { name: `warm-${n++}` });

        const single: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await run(client, 'template:default/bench-skeleton', { name: `svc-${n++}` });
          if (r.status !== 'completed') throw new Error(`a bench run ended ${r.status}`);
          single.push(r.ms);
        }
        const bursts: number[] = [];
        for (let b = 0; b < 3; b++) {
          // One connection per run, as 20 people pressing Create would have.
          const clients = Array.from({ length: 20 }, () => new HttpClient(pave.url, pave.token));
          const t0 = performance.now();
          const results = await Promise.all(clients.map((c) => run(c, 'template:default/bench-skeleton', { name: `burst-${n++}` })));
          clients.forEach((c) => c.close());
          bursts.push(performance.now() - t0);
          if (results.some((r) => r.status !== 'completed')) throw new Error('a burst run did not complete');
        }
        const template = (await import('yaml')).parse(BENCH_TEMPLATE);
        const directoryContents = filesOf(path.join(work, 'skeleton'));
        const dry: number[] = [];
        for (let i = 0; i < runs + 5; i++) {
          const t0 = performance.now();
          const res = await client.request('POST', '/api/scaffolder/v2/dry-run', { template, values: { name: `dry-${i}` }, directoryContents });
          if (res.status !== 200) throw new Error(`dry-run → ${res.status}: ${res.body}`);
          if (i >= 5) dry.push(performance.now() - t0);
        }
        const created: number[] = [];
        if (fs.existsSync(builtIn)) {
          for (let i = 0; i < 5; i++) {
            const r = await run(client, 'template:default/production-microservice', {
              name: `created-${i}`,
              description: 'A benchmark service',
              owner: 'group:default/team-platform',
              language: 'typescript',
              database: 'none',
              repoUrl: `pave?owner=bench&repo=created-${i}`,
            });
            if (r.status !== 'completed') throw new Error(`the built-in template ended ${r.status}`);
            const entity = await client.get(`/api/catalog/entities/by-name/component/default/created-${i}`);
            if (entity.status !== 200) throw new Error('the created service is not in the catalog');
            created.push(r.ms);
          }
        }
        const s = stats(single);
        const bu = stats(bursts);
        const d = stats(dry);
        const mark = (v: number, t: number) => (v <= t ? '✓' : '✗');
        console.log(`\n## ${backend}`);
        console.log(`one run (fetch:template of 20 files + catalog:write + debug:log), POST → completed: median ${ms(s.median)}, p95 ${ms(s.p95)} ${mark(s.median, TARGETS.singleMs)}`);
        console.log(`20 runs started at once, until the last completes: median ${ms(bu.median)} of 3 bursts ${mark(bu.median, TARGETS.burstMs)}`);
        console.log(`dry-run of the same template: median ${ms(d.median)}, p95 ${ms(d.p95)} ${mark(d.median, TARGETS.dryRunMs)}`);
        if (created.length) {
          const c = stats(created);
          console.log(`built-in production-microservice (TypeScript), Create → repository pushed and entity in the catalog: median ${ms(c.median)}, max ${ms(c.max)} ${mark(c.median, TARGETS.createMs)}`);
        }
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
