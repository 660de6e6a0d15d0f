import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import pino from 'pino';
import { EventLog, eventMigrations } from '../core/events.ts';
import { JobQueue, jobMigrations } from '../core/jobs.ts';
import { migrate } from '../core/migrations.ts';
import { openStore, type Store } from '../core/store.ts';
import { installErrorHandling } from '../server/errors.ts';
import { freshDatabase, freshStore, TEST_BACKEND } from '../testing/db.ts';
import {
  AuditLog,
  auditMigrations,
  auditRoutes,
  GENESIS_HASH,
  PRUNE_JOB,
  REDACTED,
  scheduleAuditRetention,
  scrubDetails,
  scrubPath,
  verifyLines,
  type AuditInput,
} from './index.ts';

const silent = pino({ level: 'silent' });
const DAY = 86_400_000;

const entry = (n: number, over: Partial<AuditInput> = {}): AuditInput => ({
  actor: `user:default/u${n % 3}`,
  actorType: 'user',
  authMethod: 'session',
  action: 'catalog.location.create',
  target: `location:${n}`,
  outcome: 'success',
  status: 201,
  sourceIp: '10.0.0.1',
  requestId: `req-${n}`,
  method: 'POST',
  path: '/api/catalog/locations',
  details: { n },
  ...over,
});

/** A fresh store with the audit tables (and the job queue's, for retention). */
async function auditStore(): Promise<{ store: Store; audit: AuditLog; close(): Promise<void> }> {
  const { store, close } = await freshStore([...eventMigrations, ...jobMigrations, ...auditMigrations]);
  return { store, audit: new AuditLog(store, { log: silent }), close };
}

async function recordAll(audit: AuditLog, inputs: AuditInput[]): Promise<void> {
  await Promise.all(inputs.map((i) => audit.record(i)));
}

/** Changes rows behind Pave's back, as a database superuser could. */
async function tamper(store: Store, sql: string): Promise<void> {
  await store.tx(async (q) => {
    await q.exec('alter table audit_log disable trigger all');
    await q.exec(sql);
    await q.exec('alter table audit_log enable trigger all');
  });
}

async function exportLines(audit: AuditLog, filters = {}): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of audit.export(filters)) lines.push(line);
  return lines;
}

describe('audit log: chain and append-only table', () => {
  let ctx: Awaited<ReturnType<typeof auditStore>>;
  before(async () => {
    ctx = await auditStore();
  });
  after(() => ctx.close());

  test('entries recorded together are written in few transactions and form one chain that verifies', async () => {
    await recordAll(ctx.audit, Array.from({ length: 60 }, (_, i) => entry(i)));
    const result = await ctx.audit.verify();
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.checked, 60);
    assert.equal(result.firstId, 1);
    assert.equal(result.lastId, 60);
    assert.equal(result.startHash, GENESIS_HASH);
    const [{ n }] = await ctx.store.query<{ n: number }>('select count(distinct xmin::text)::int as n from audit_log');
    assert.ok(n < 60, `60 concurrent records should share transactions, took ${n}`);
    const [first] = (await ctx.audit.query({ limit: 1000 })).items.slice(-1);
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
  });

  test('UPDATE, DELETE and TRUNCATE are refused by the database, also with the prune flag for UPDATE', async () => {
    await assert.rejects(ctx.store.query(`update audit_log set actor = 'user:default/mallory' where id = 1`), /AUDIT_APPEND_ONLY: UPDATE on audit_log is refused/);
    await assert.rejects(ctx.store.query('delete from audit_log where id = 1'), /AUDIT_APPEND_ONLY: DELETE on audit_log is refused/);
    await assert.rejects(ctx.store.exec('truncate audit_log'), /AUDIT_APPEND_ONLY: TRUNCATE on audit_log is refused/);
    await assert.rejects(
      ctx.store.query(`insert into audit_anchor (last_pruned_id, last_pruned_hash) values (1, 'x')`),
      /AUDIT_APPEND_ONLY: INSERT on audit_anchor is refused/,
    );
    await assert.rejects(
      ctx.store.tx(async (q) => {
        await q.exec(`set local pave.audit_prune = 'on'`);
        await q.query(`update audit_log set actor = 'x' where id = 1`);
      }),
      /AUDIT_APPEND_ONLY/,
    );
    const [{ n }] = await ctx.store.query<{ n: number }>('select count(*)::int as n from audit_log');
    assert.equal(n, 60);
  });

  test('an invalid entry is refused alone; the entries recorded with it are written', async () => {
    const results = await Promise.allSettled([
      ctx.audit.record(entry(100)),
      ctx.audit.record({ ...entry(101), actorType: 'robot' as any }),
      ctx.audit.record({ ...entry(102), action: '' }),
      ctx.audit.record(entry(103)),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.match(String((results[1] as PromiseRejectedResult).reason.message), /actorType.*one of user, service, guest, anonymous/);
    assert.equal((results[1] as PromiseRejectedResult).reason.code, 'AUDIT_ENTRY_INVALID');
    assert.equal((await ctx.audit.verify()).checked, 62);
  });
});

describe('audit log: tampering is detected', () => {
  const cases: { name: string; sql: string; broken: number; problem: string; reason: RegExp }[] = [
    { name: 'an edited actor', sql: `update audit_log set actor = 'user:default/mallory' where id = 4`, broken: 4, problem: 'changed', reason: /entry 4 was altered/ },
    { name: 'edited details', sql: `update audit_log set details = '{"n": 99}' where id = 7`, broken: 7, problem: 'changed', reason: /entry 7 was altered/ },
    { name: 'a deleted middle entry', sql: 'delete from audit_log where id = 5', broken: 6, problem: 'gap', reason: /entry 6 does not follow entry 4/ },
    { name: 'deleted oldest entries', sql: 'delete from audit_log where id <= 2', broken: 3, problem: 'start', reason: /older entries were deleted outside retention pruning/ },
    { name: 'an overwritten hash', sql: `update audit_log set hash = repeat('a', 64) where id = 3`, broken: 3, problem: 'changed', reason: /entry 3 was altered/ },
    {
      name: 'two entries swapped',
      sql: 'update audit_log set id = 1000 where id = 8; update audit_log set id = 8 where id = 9; update audit_log set id = 9 where id = 1000',
      broken: 8,
      problem: 'changed',
      reason: /entry 8 was altered/,
    },
  ];
  let ctx: Awaited<ReturnType<typeof auditStore>>;
  before(async () => {
    ctx = await auditStore();
    await recordAll(ctx.audit, Array.from({ length: 10 }, (_, i) => entry(i)));
    await ctx.store.exec('create table audit_log_intact as select * from audit_log');
  });
  after(() => ctx.close());

  for (const c of cases) {
    test(c.name, async () => {
      try {
        assert.equal((await ctx.audit.verify()).ok, true, 'intact before tampering');
        await tamper(ctx.store, c.sql);
        const result = await ctx.audit.verify();
        assert.equal(result.ok, false, `tampering went unnoticed: ${JSON.stringify(result)}`);
        assert.equal(result.brokenAt?.id, c.broken, JSON.stringify(result.brokenAt));
        assert.equal(result.brokenAt?.problem, c.problem);
        assert.match(result.brokenAt!.reason, c.reason);
      } finally {
        await tamper(ctx.store, 'delete from audit_log; insert into audit_log select * from audit_log_intact');
      }
    });
  }
});

describe('audit log: several writers', () => {
  test('concurrent writers on one database make one valid chain holding every entry', async () => {
    const db = await freshDatabase();
    const a = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
    // On PostgreSQL a second pool plays a second Pave process; PGlite belongs to one process.
    const b = TEST_BACKEND === 'postgres' ? await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir }) : a;
    try {
      await migrate(a, auditMigrations);
      const one = new AuditLog(a);
      const two = new AuditLog(b);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 150; i++) {
        writes.push(one.record(entry(i, { actor: 'service:one', actorType: 'service', authMethod: 'token', tokenId: `t${i}` })));
        writes.push(two.record(entry(i, { actor: 'service:two', actorType: 'service', authMethod: 'token' })));
        if (i % 25 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all(writes);
      const result = await one.verify();
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.checked, 300);
      assert.equal((await one.query({ actor: 'service:two', limit: 1000 })).items.length, 150);
    } finally {
      if (b !== a) await b.close();
      await a.close();
      await db.drop();
    }
  });
});

describe('audit log: query and export', () => {
  let ctx: Awaited<ReturnType<typeof auditStore>>;
  const t0 = Date.parse('2025-03-01T00:00:00Z');
  before(async () => {
    ctx = await auditStore();
    const inputs: AuditInput[] = [];
    for (let i = 0; i < 20; i++) {
      inputs.push(
        entry(i, {
          at: new Date(t0 + i * 3600_000),
          action: i % 4 === 0 ? 'auth.signin' : i % 4 === 1 ? 'catalog.entity.delete' : 'catalog.location.create',
          outcome: i % 5 === 0 ? 'denied' : 'success',
          target: i < 10 ? 'component:default/payments' : `location:${i}`,
        }),
      );
    }
    inputs.push(entry(20, { action: 'catalogXentity', at: new Date(t0 + 30 * 3600_000) }));
    inputs.push(entry(21, { action: 'cat_log.thing', at: new Date(t0 + 31 * 3600_000) }));
    for (const i of inputs) await ctx.audit.record(i);
  });
  after(() => ctx.close());

  const ids = async (filters: Parameters<AuditLog['query']>[0]) => (await ctx.audit.query({ limit: 1000, ...filters })).items.map((e) => e.id);

  test('filters by actor, action (exact or prefix), outcome, target and time', async () => {
    assert.deepEqual(await ids({ actor: 'user:default/u1' }), [20, 17, 14, 11, 8, 5, 2]);
    assert.deepEqual(await ids({ action: 'auth.signin' }), [17, 13, 9, 5, 1]);
    assert.equal((await ids({ action: 'catalog.*' })).length, 15, 'a prefix matches catalog.entity.* and catalog.location.*');
    assert.deepEqual(await ids({ action: 'cat_*' }), [22], 'an underscore in a prefix is literal');
    assert.deepEqual(await ids({ outcome: 'denied' }), [16, 11, 6, 1]);
    assert.equal((await ids({ target: 'component:default/payments' })).length, 10);
    assert.deepEqual(await ids({ from: new Date(t0 + 18 * 3600_000).toISOString() }), [22, 21, 20, 19]);
    assert.deepEqual(await ids({ from: new Date(t0 + 2 * 3600_000), to: '2025-03-01T04:00:00Z' }), [5, 4, 3]);
    assert.deepEqual(await ids({ actor: 'user:default/u1', outcome: 'denied' }), [11]);
  });

  test('pages newest first with an opaque cursor, without repeats or gaps', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await ctx.audit.query({ limit: 5, after });
      seen.push(...page.items.map((e) => e.id));
      after = page.nextCursor;
      pages++;
    } while (after);
    assert.equal(pages, 5);
    assert.deepEqual(seen, Array.from({ length: 22 }, (_, i) => 22 - i));
    const filtered = await ctx.audit.query({ action: 'catalog.*', limit: 10 });
    const rest = await ctx.audit.query({ action: 'catalog.*', limit: 10, after: filtered.nextCursor });
    assert.equal(rest.items.length, 5);
    assert.equal(rest.nextCursor, undefined, 'the last page has no cursor');
    assert.equal((await ctx.audit.query()).items.length, 22, 'the default limit is 100');
  });

  test('bad filters are refused with stable codes', async () => {
    const cases: [Parameters<AuditLog['query']>[0], string][] = [
      [{ outcome: 'maybe' }, 'INVALID_OUTCOME'],
      [{ from: 'yesterday-ish' }, 'INVALID_DATE'],
      [{ to: new Date(NaN) }, 'INVALID_DATE'],
      [{ from: '2025-03-02', to: '2025-03-01' }, 'INVALID_DATE_RANGE'],
      [{ after: 'not-a-cursor' }, 'INVALID_CURSOR'],
      [{ after: Buffer.from('{"before":-1}').toString('base64url') }, 'INVALID_CURSOR'],
    ];
    for (const [filters, code] of cases) {
      await assert.rejects(ctx.audit.query(filters), (e: any) => e.code === code && e.status === 400, `${JSON.stringify(filters)} should fail with ${code}`);
    }
    assert.throws(() => ctx.audit.export({ outcome: 'nope' }), (e: any) => e.code === 'INVALID_OUTCOME', 'export checks its filters at once');
  });

  test('a full export verifies offline; an altered, removed, reordered or malformed line does not', async () => {
    const lines = await exportLines(ctx.audit);
    assert.equal(lines.length, 22);
    assert.deepEqual(JSON.parse(lines[0]).id, 1, 'oldest first');
    const good = await verifyLines(lines);
    assert.equal(good.ok, true, JSON.stringify(good));
    assert.equal(good.checked, 22);
    assert.equal(good.lastHash, (await ctx.audit.verify()).lastHash);

    const edited = [...lines];
    edited[2] = JSON.stringify({ ...JSON.parse(lines[2]), actor: 'user:default/mallory' });
    const bad = await AuditLog.verifyLines(edited);
    assert.equal(bad.ok, false, 'an edited line must fail');
    assert.deepEqual({ id: bad.brokenAt?.id, line: bad.brokenAt?.line, problem: bad.brokenAt?.problem }, { id: 3, line: 3, problem: 'changed' });

    const removed = lines.filter((_, i) => i !== 6);
    const gap = await verifyLines(removed);
    assert.equal(gap.brokenAt?.problem, 'gap');
    assert.equal(gap.brokenAt?.id, 8);

    const reordered = [...lines];
    [reordered[4], reordered[5]] = [reordered[5], reordered[4]];
    assert.equal((await verifyLines(reordered)).brokenAt?.problem, 'order');

    const malformed = await verifyLines([lines[0], '{"id": 2, "actor": "x"}']);
    assert.equal(malformed.brokenAt?.problem, 'malformed');
    assert.equal(malformed.brokenAt?.line, 2);
    assert.match(malformed.brokenAt!.reason, /line 2 is not an audit entry/);
    assert.equal((await verifyLines(['not json'])).brokenAt?.problem, 'malformed');
    assert.deepEqual(await verifyLines([]), { ok: true, checked: 0 });
  });

  test('a filtered export is reported as not a contiguous chain, not as tampered', async () => {
    const lines = await exportLines(ctx.audit, { outcome: 'denied' });
    assert.deepEqual(lines.map((l) => JSON.parse(l).id), [1, 6, 11, 16]);
    const result = await verifyLines(lines);
    assert.equal(result.ok, false, 'a filtered export is not a chain');
    assert.equal(result.brokenAt?.problem, 'gap');
    assert.match(result.brokenAt!.reason, /not a contiguous chain/);
    assert.match(result.brokenAt!.reason, /filtered export/);
    assert.match(result.brokenAt!.reason, /No entry was altered: each of the 4 entries matches its own hash/);
    const edited = [...lines];
    edited[3] = JSON.stringify({ ...JSON.parse(lines[3]), outcome: 'success' });
    assert.equal((await verifyLines(edited)).brokenAt?.problem, 'changed', 'an altered entry still shows in a filtered export');
  });
});

describe('audit log: secrets never reach it', () => {
  test('details under secret keys, Pave tokens and bearer values are redacted before hashing', async () => {
    const ctx = await auditStore();
    try {
      const token = 'pave_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_x';
      await ctx.audit.record(
        entry(1, {
          path: `/api/catalog/locations?access_token=query-secret-1&dryRun=true`,
          target: `token ${token}`,
          details: {
            password: 'hunter2-secret',
            newPassword: 'hunter3-secret',
            nested: { apiKey: 'api-key-secret-1', 'x-api-key': 'api-key-secret-2', list: [{ clientSecret: 'client-secret-1' }, `see ${token}`], count: 2 },
            headers: { Authorization: 'Bearer bearer-secret-1', cookie: 'pave_session=cookie-secret-1', accept: 'json' },
            note: 'sent Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
            credentials: { user: 'credential-secret-1' },
            skipped: undefined,
          },
        }),
      );
      const [e] = (await ctx.audit.query()).items;
      assert.deepEqual(e.details, {
        password: REDACTED,
        newPassword: REDACTED,
        nested: { apiKey: REDACTED, 'x-api-key': REDACTED, list: [{ clientSecret: REDACTED }, `see ${REDACTED}`], count: 2 },
        headers: { Authorization: REDACTED, cookie: REDACTED, accept: 'json' },
        note: `sent Bearer ${REDACTED}`,
        credentials: REDACTED,
      });
      assert.equal(e.path, `/api/catalog/locations?access_token=${REDACTED}&dryRun=true`);
      assert.equal(e.target, `token ${REDACTED}`);
      const [{ text }] = await ctx.store.query<{ text: string }>('select string_agg(audit_log::text, $1) as text from audit_log', ['\n']);
      for (const secret of ['hunter', 'secret-1', 'secret-2', 'eyJhbGciOiJIUzI1NiJ9', token]) {
        assert.ok(!text.includes(secret), `the stored row holds the secret ${secret}`);
      }
      assert.equal((await ctx.audit.verify()).ok, true, 'redacted entries verify');
    } finally {
      await ctx.close();
    }
  });

  test('scrubbing keeps JSON-safe values and marks what JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['a cycle', cyclic, { a: 1, self: '[circular]' }],
      ['dates and bigints', { when: new Date('2025-01-01T00:00:00Z'), big: 10n }, { when: '2025-01-01T00:00:00.000Z', big: '10' }],
      ['non-finite numbers', { n: Number.NaN, m: [Infinity] }, { n: null, m: [null] }],
      ['functions and undefined', { f: () => 1, u: undefined, list: [undefined] }, { list: [null] }],
      ['an error', { err: new Error('failed with pave_aaaaaaaaaaaaaaaaaaaaaaaa') }, { err: { name: 'Error', message: `failed with ${REDACTED}` } }],
      ['a NUL character', { s: 'a\u0000b' }, { s: 'a\ufffdb' }],
    ];
    for (const [name, input, expected] of cases) assert.deepEqual(scrubDetails(input), expected, name);
    assert.equal(scrubPath('/api/x?password=p&page=2&API_KEY=k'), `/api/x?password=${REDACTED}&page=2&API_KEY=${REDACTED}`);
    assert.equal(scrubPath('/api/x'), '/api/x');
  });
});

describe('audit log: retention', () => {
  test('pruning deletes the old stretch of the chain and verification still passes', async () => {
    const ctx = await auditStore();
    try {
      const old = new Date(Date.now() - 400 * DAY);
      for (let i = 0; i < 5; i++) await ctx.audit.record(entry(i, { at: new Date(old.getTime() + i * 1000) }));
      for (let i = 5; i < 8; i++) await ctx.audit.record(entry(i, { at: new Date(Date.now() - 10 * DAY) }));
      const pruned = await ctx.audit.prune(365);
      assert.equal(pruned.deleted, 5);
      assert.equal(pruned.anchor?.id, 5);
      const result = await ctx.audit.verify();
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.checked, 3);
      assert.equal(result.firstId, 6);
      assert.equal(result.startHash, pruned.anchor?.hash);
      await ctx.audit.record(entry(9));
      assert.equal((await ctx.audit.verify()).ok, true, 'appends after pruning chain on');
      assert.equal((await verifyLines(await exportLines(ctx.audit))).ok, true, 'a full export after pruning verifies');
      assert.deepEqual(await ctx.audit.prune(365), { deleted: 0 });
      const all = await ctx.audit.prune(1);
      assert.equal(all.deleted, 3, 'everything older than a day goes; the fresh entry stays');
      assert.equal((await ctx.audit.verify()).ok, true, 'verifies after the second pruning');
    } finally {
      await ctx.close();
    }
  });

  test('pruning refuses to erase a stretch that was tampered with', async () => {
    const ctx = await auditStore();
    try {
      for (let i = 0; i < 4; i++) await ctx.audit.record(entry(i, { at: new Date(Date.now() - 400 * DAY) }));
      await ctx.audit.record(entry(4));
      await tamper(ctx.store, `update audit_log set actor = 'user:default/mallory' where id = 2`);
      await assert.rejects(ctx.audit.prune(365), (e: any) => e.code === 'AUDIT_CHAIN_BROKEN' && /entry 2 was altered/.test(e.message), 'prune must refuse');
      const [{ n }] = await ctx.store.query<{ n: number }>('select count(*)::int as n from audit_log');
      assert.equal(n, 5, 'nothing was deleted');
      await assert.rejects(ctx.audit.prune(0), (e: any) => e.code === 'INVALID_RETENTION', 'a retention of 0 days is refused');
    } finally {
      await ctx.close();
    }
  });

  test('the retention job runs, prunes and queues its next run a day later', async () => {
    const ctx = await auditStore();
    const events = new EventLog(ctx.store);
    const jobs = new JobQueue(ctx.store, events, silent, { pollMs: 20 });
    try {
      for (let i = 0; i < 3; i++) await ctx.audit.record(entry(i, { at: new Date(Date.now() - 40 * DAY) }));
      await ctx.audit.record(entry(3));
      await scheduleAuditRetention(jobs, ctx.audit, 30);
      const [first] = await jobs.list({ kind: PRUNE_JOB, status: 'queued' });
      assert.ok(first, 'the first run is queued');
      assert.equal(first.dedupeKey, PRUNE_JOB);
      assert.ok(Date.parse(first.runAt) > Date.now() + 30_000, `the first run waits for start-up to settle: ${first.runAt}`);
      // Another process starting queues no second run.
      await jobs.enqueue(PRUNE_JOB, {}, { dedupeKey: PRUNE_JOB, runAt: new Date(Date.now() + 60_000) });
      assert.equal((await jobs.list({ kind: PRUNE_JOB })).length, 1);
      const id = await jobs.enqueue(PRUNE_JOB, {}, { dedupeKey: PRUNE_JOB, runAt: new Date() });
      await jobs.start();
      const done = await jobs.waitFor(id, 10_000);
      assert.equal(done.status, 'succeeded', done.lastError ?? '');
      assert.equal((done.result as any).deleted, 3);
      const [next] = await jobs.list({ kind: PRUNE_JOB, status: 'queued' });
      assert.ok(next, 'the next run is queued');
      const inMs = Date.parse(next.runAt) - Date.now();
      assert.ok(inMs > DAY - 60_000 && inMs <= DAY, `the next run is a day later, not in ${inMs} ms`);
      assert.equal((await ctx.audit.verify()).ok, true, 'verifies after the job pruned');
    } finally {
      await jobs.stop(1000);
      await ctx.close();
    }
  });
});

describe('audit log: shutdown', () => {
  test('stop writes what is pending and refuses new entries', async () => {
    const ctx = await auditStore();
    try {
      const pending = Array.from({ length: 20 }, (_, i) => ctx.audit.record(entry(i)));
      await ctx.audit.stop();
      const [{ n }] = await ctx.store.query<{ n: number }>('select count(*)::int as n from audit_log');
      assert.equal(n, 20);
      await Promise.all(pending);
      await assert.rejects(ctx.audit.record(entry(21)), /stopped/);
    } finally {
      await ctx.close();
    }
  });
});

describe('audit HTTP API', () => {
  let ctx: Awaited<ReturnType<typeof auditStore>>;
  const app = Fastify();
  const permissions = new Map<string, unknown>();
  before(async () => {
    ctx = await auditStore();
    installErrorHandling(app);
    app.addHook('onRoute', (r) => void permissions.set(`${r.method} ${r.url}`, (r.config as any)?.permission));
    await app.register(async (api) => auditRoutes(api, ctx.audit), { prefix: '/api/audit' });
    await app.ready();
    for (let i = 0; i < 5; i++) await ctx.audit.record(entry(i, { outcome: i === 2 ? 'denied' : 'success' }));
  });
  after(async () => {
    await app.close();
    await ctx.close();
  });

  test('every route requires audit.read', () => {
    for (const url of ['GET /api/audit', 'GET /api/audit/export', 'GET /api/audit/verify']) assert.ok(permissions.has(url), `${url} is registered`);
    for (const [route, permission] of permissions) assert.equal(permission, 'audit.read', route);
  });

  test('lists with filters and a cursor', async () => {
    const page = await app.inject({ method: 'GET', url: '/api/audit?limit=2' });
    assert.equal(page.statusCode, 200, page.body);
    const body = page.json();
    assert.deepEqual(body.items.map((e: any) => e.id), [5, 4]);
    const next = (await app.inject({ method: 'GET', url: `/api/audit?limit=2&after=${body.nextCursor}` })).json();
    assert.deepEqual(next.items.map((e: any) => e.id), [3, 2]);
    const denied = (await app.inject({ method: 'GET', url: '/api/audit?outcome=denied' })).json();
    assert.deepEqual(denied.items.map((e: any) => e.id), [3]);
  });

  test('bad filters answer 400 with a stable code', async () => {
    for (const [query, code] of [
      ['from=soon', 'INVALID_DATE'],
      ['outcome=maybe', 'INVALID_OUTCOME'],
      ['after=garbage', 'INVALID_CURSOR'],
      ['limit=5000', 'INVALID_REQUEST'],
    ]) {
      const res = await app.inject({ method: 'GET', url: `/api/audit?${query}` });
      assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
      assert.equal(res.json().error.code, code, query);
    }
    const res = await app.inject({ method: 'GET', url: '/api/audit/export?to=never' });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'INVALID_DATE');
  });

  test('exports JSON lines as an attachment that verifies, and verifies the chain', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/audit/export' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="pave-audit-\d{4}-\d{2}-\d{2}\.jsonl"$/);
    const lines = res.body.split('\n').filter(Boolean);
    assert.equal(lines.length, 5);
    assert.equal((await verifyLines(lines)).ok, true, 'the exported file verifies');
    const verify = await app.inject({ method: 'GET', url: '/api/audit/verify' });
    assert.deepEqual({ ok: verify.json().ok, checked: verify.json().checked }, { ok: true, checked: 5 });
  });
});

describe('pave audit verify --file', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const run = promisify(execFile);
  let dir: string;
  let lines: string[];
  const pave = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root });
      return { code: 0, stdout, stderr };
    } catch (e: any) {
      return { code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
    }
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-audit-'));
    const ctx = await auditStore();
    try {
      for (let i = 0; i < 6; i++) await ctx.audit.record(entry(i, { outcome: i % 2 ? 'denied' : 'success' }));
      lines = await exportLines(ctx.audit);
    } finally {
      await ctx.close();
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a good export verifies with exit code 0', async () => {
    const file = path.join(dir, 'good.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = await pave(['audit', 'verify', '--file', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /audit export verified: 6 entries form one unbroken chain \(ids 1 to 6\)/);
  });

  test('a tampered export fails with exit code 1 naming the first broken entry', async () => {
    const file = path.join(dir, 'tampered.jsonl');
    const edited = [...lines];
    edited[3] = JSON.stringify({ ...JSON.parse(lines[3]), outcome: 'success' });
    fs.writeFileSync(file, edited.join('\n') + '\n');
    const r = await pave(['audit', 'verify', '--file', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /audit export FAILED verification, first broken entry is entry 4 \(line 4\): entry 4 was altered/);
  });

  test('a filtered export is reported as not a contiguous chain', async () => {
    const file = path.join(dir, 'filtered.jsonl');
    fs.writeFileSync(file, lines.filter((l) => JSON.parse(l).outcome === 'denied').join('\n') + '\n');
    const r = await pave(['audit', 'verify', '--file', file, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.brokenAt.problem, 'gap');
    assert.match(result.brokenAt.reason, /not a contiguous chain/);
  });
});
