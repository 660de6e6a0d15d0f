// Cost of authentication and authorization per request, and throughput under 200 concurrent
// clients with and without them. Settings:
//   BENCH_AUTH_N          components in the generated org (default 1000)
//   BENCH_AUTH_BACKEND    postgres (default) or pglite
//   BENCH_AUTH_REQUESTS   sequential requests per caller kind (default 2000)
//   BENCH_AUTH_SECONDS    seconds of load per throughput run (default 10)
//   BENCH_AUTH_CLIENTS    concurrent clients (default 200)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../src/core/config.ts';
import { openStore } from '../src/core/store.ts';
import { catalogEntityRules, catalogPredicateCombinators } from '../src/catalog/permissions.ts';
import { Identity } from '../src/identity/service.ts';
import { DEFAULT_RULES } from '../src/identity/policy.ts';
import { BENCH_ADMIN_PASSWORD, HttpClient, PaveChild, ROOT, envInt, freshBenchStore, machine, ms, num, onCleanup, sleep, stats, table } from './lib.ts';

const TARGET_TOKEN_CHECK_MS = 0.2;

type Caller = { name: string; headers: Record<string, string> };

export async function runAuthBench(): Promise<void> {
  const N = envInt('BENCH_AUTH_N', 1000);
  const backend = process.env.BENCH_AUTH_BACKEND ?? 'postgres';
  const requests = envInt('BENCH_AUTH_REQUESTS', 2000);
  const seconds = envInt('BENCH_AUTH_SECONDS', 10);
  const clients = envInt('BENCH_AUTH_CLIENTS', 200);
  console.log('\n# Pave authentication and authorization benchmark');
  console.log(`date:     ${new Date().toISOString()}`);
  console.log(`machine:  ${machine()} (the load generator shares these cores with Pave)`);
  console.log(`setup:    N = ${num(N)} org on ${backend}; a policy that also lets anonymous callers read entities, so the same route runs with and without authentication`);
  console.log(`target:   a token check with a warm cache ≤ ${TARGET_TOKEN_CHECK_MS} ms median`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-bench-auth-'));
  const removeWork = onCleanup(() => fs.rmSync(work, { recursive: true, force: true }));
  const generator = path.resolve(ROOT, process.env.BENCH_GENERATOR ?? '../shared/bench/gen-catalog.js');
  const gen = JSON.parse(execFileSync(process.execPath, [generator, String(N), path.join(work, 'org')], { encoding: 'utf8' }));
  const rules = [{ roles: ['anonymous'], permissions: ['catalog.entity.read'], decision: 'allow' }, ...DEFAULT_RULES];
  const configFile = path.join(work, 'pave.yaml');
  fs.writeFileSync(configFile, YAML.stringify({ permission: { rules } }));

  if (backend !== 'postgres' && backend !== 'pglite') throw new Error(`Unknown backend "${backend}" in BENCH_AUTH_BACKEND`);
  const store = await freshBenchStore(backend);
  const { databaseUrl, dataDir } = store;
  const { pave } = await PaveChild.start({ runner: 'build', dataDir, databaseUrl, logFile: path.join(work, 'pave.log'), env: { PAVE_CONFIG: configFile } });
  try {
    const admin = new HttpClient(pave.url, pave.token);
    const posted = await admin.request('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'org', 'root.yaml') });
    if (posted.status !== 201) throw new Error(`register → ${posted.status} ${posted.body}`);
    for (;;) {
      const n = (await admin.getJson('/api/catalog/entities/by-query?limit=0')).totalItems;
      if (n === gen.expectedTotal) break;
      await sleep(100);
    }
    const [user] = await admin.getJson<any[]>('/api/catalog/entities?filter=kind=user&limit=1');
    const [component] = await admin.getJson<any[]>('/api/catalog/entities?filter=kind=component&limit=1');
    const memberToken = (await admin.request('POST', '/api/auth/tokens', { name: 'bench', kind: 'service', service: 'bench-member', role: 'member', scopes: ['read'] })).json().token;
    const signin = await fetch(`${pave.url}/api/auth/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }) });
    const cookie = signin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    admin.close();
    const callers: Caller[] = [
      { name: 'anonymous (no authentication)', headers: {} },
      { name: 'API token, admin', headers: { authorization: `Bearer ${pave.token}` } },
      { name: 'API token, member service, read scope', headers: { authorization: `Bearer ${memberToken}` } },
      { name: 'session cookie, admin', headers: { cookie } },
    ];

    const one = `/api/catalog/entities/by-name/component/${component.metadata.namespace ?? 'default'}/${component.metadata.name}`;
    // Rounds interleave the callers, so warming up (JIT, caches, the database) favours none of them.
    const rounds = 3;
    console.log(`\n## Sequential latency: GET ${one}, ${num(requests)} keep-alive requests per caller in ${rounds} interleaved rounds, after a warm-up round`);
    for (const c of callers) await sequential(pave.url, one, c.headers, requests / rounds);
    const samples = new Map<string, number[]>(callers.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++) for (const c of callers) samples.get(c.name)!.push(...(await sequential(pave.url, one, c.headers, Math.ceil(requests / rounds))));
    const seq: string[][] = [];
    const base = stats(samples.get(callers[0].name)!).median;
    for (const c of callers) {
      const s = stats(samples.get(c.name)!);
      seq.push([c.name, ms(s.median), ms(s.p95), c === callers[0] ? '-' : `${s.median - base >= 0 ? '+' : ''}${(s.median - base).toFixed(3)} ms`]);
    }
    console.log(table(['caller', 'p50', 'p95', 'added p50'], seq));

    const list = '/api/catalog/entities/by-query?filter=kind=component&limit=20';
    console.log(`\n## Throughput: ${clients} concurrent clients on GET ${list}, ${seconds} s per caller in each of 2 rounds (the second in reverse order), after 2 s of warm-up each`);
    for (const c of callers) await load(pave.url, list, c.headers, clients, 2000);
    const runs = new Map<string, Awaited<ReturnType<typeof load>>[]>(callers.map((c) => [c.name, []]));
    for (const order of [callers, [...callers].reverse()]) for (const c of order) runs.get(c.name)!.push(await load(pave.url, list, c.headers, clients, seconds * 1000));
    const avg = (c: Caller, f: (r: Awaited<ReturnType<typeof load>>) => number) => runs.get(c.name)!.reduce((a, r) => a + f(r), 0) / runs.get(c.name)!.length;
    const baseRate = avg(callers[0], (r) => r.rate);
    const thr: string[][] = [];
    for (const c of callers) {
      const rate = avg(c, (r) => r.rate);
      const errors = runs.get(c.name)!.reduce((a, r) => a + r.errors, 0);
      thr.push([c.name, `${num(Math.round(rate))} req/s`, c === callers[0] ? '-' : `${rate >= baseRate ? '+' : ''}${(((rate - baseRate) / baseRate) * 100).toFixed(1)}%`, ms(avg(c, (r) => r.p50)), ms(avg(c, (r) => r.p99)), String(errors)]);
    }
    console.log(table(['caller', 'throughput', 'vs anonymous', 'p50', 'p99', 'errors'], thr));

    // The check itself, in this process, against the same store: what every request pays.
    const config = loadConfig({ file: configFile, overrides: { 'database.url': databaseUrl, 'data.dir': dataDir } });
    if (backend === 'postgres') {
      const store = await openStore({ databaseUrl, dataDir: work });
      try {
        const identity = new Identity(store, config.auth, rules as any);
        identity.policy.addResourceRules('catalog-entity', catalogEntityRules, catalogPredicateCombinators);
        const { token } = await identity.tokens.create({ name: 'micro', kind: 'personal', owner: `user:default/${user.metadata.name}`, createdBy: 'bench', scopes: ['write'] });
        await identity.tokens.authenticate(token);
        const batches: number[] = [];
        for (let b = 0; b < 200; b++) {
          const t0 = performance.now();
          for (let i = 0; i < 500; i++) {
            const { principal } = await identity.tokens.authenticate(token);
            identity.policy.decide(principal, 'catalog.entity.read');
            identity.policy.decide(principal, 'catalog.entity.delete');
          }
          batches.push((performance.now() - t0) / 500);
        }
        const s = stats(batches);
        const met = s.median <= TARGET_TOKEN_CHECK_MS ? 'met' : 'MISSED';
        console.log(`\n## Token check with a warm cache (authenticate + two policy decisions, in process): median ${(s.median * 1000).toFixed(1)} µs, p95 ${(s.p95 * 1000).toFixed(1)} µs (target ≤ ${TARGET_TOKEN_CHECK_MS} ms: ${met})`);
        const cold: number[] = [];
        for (let i = 0; i < 200; i++) {
          identity.tokens.forget();
          const t0 = performance.now();
          await identity.tokens.authenticate(token);
          cold.push(performance.now() - t0);
        }
        const c = stats(cold);
        console.log(`   cold (token row and group memberships read from PostgreSQL): median ${ms(c.median)}, p95 ${ms(c.p95)}`);
      } finally {
        await store.close();
      }
    } else {
      console.log('\n(the in-process token check runs on the postgres backend only: PGlite cannot be opened by two processes)');
    }
    console.log(`pave log: ${pave.problems().length} warning/error lines`);
  } finally {
    await pave.stop();
    await store.drop();
    await removeWork();
  }
}

async function sequential(base: string, p: string, headers: Record<string, string>, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      http
        .get(new URL(p, base), { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`GET ${p} → ${res.statusCode}`))));
        })
        .on('error', reject);
    });
  try {
    for (let i = 0; i < 200; i++) await once();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await once());
    return out;
  } finally {
    agent.destroy();
  }
}

async function load(base: string, p: string, headers: Record<string, string>, clients: number, durationMs: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let errors = 0;
  const url = new URL(p, base);
  const once = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      http
        .get(url, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - t0);
            else errors++;
            resolve();
          });
        })
        .on('error', () => {
          errors++;
          resolve();
        });
    });
  // A short warm-up opens the connections.
  await Promise.all(Array.from({ length: clients }, () => once()));
  latencies.length = 0;
  errors = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  const s = stats(latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  return { rate: latencies.length / (elapsed / 1000), p50: s.median, p99: sorted[Math.floor(sorted.length * 0.99)], errors };
}
