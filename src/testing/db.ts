import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate, type Migration } from '../core/migrations.ts';
import { openStore, type Store } from '../core/store.ts';

/** Which store the suite runs against: `npm test` runs every file once per backend. */
export const TEST_BACKEND: 'pglite' | 'postgres' = process.env.PAVE_TEST_BACKEND === 'postgres' ? 'postgres' : 'pglite';
const ADMIN_URL = process.env.PAVE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Set for the postgres backend: a fresh database made for this test file. */
  databaseUrl?: string;
  /** A fresh data folder (the embedded store lives in it for the pglite backend). */
  dataDir: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty store for one test file on the backend under test. For PGlite a template data
 * folder made once per run (scripts/test.js) is copied, which skips PGlite's slow initdb.
 */
export async function freshDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-test-'));
  const template = process.env.PAVE_TEST_PGLITE_TEMPLATE;
  if (TEST_BACKEND === 'pglite') {
    if (template && fs.existsSync(template)) fs.cpSync(template, path.join(dataDir, 'pg'), { recursive: true });
    return { dataDir, drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  return { ...(await freshPostgres()), dataDir, drop: async () => undefined };
}

/** A new database on the machine's PostgreSQL, dropped again by `drop`. */
export async function freshPostgres(): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `pave_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A migrated store on a fresh database of the backend under test; `close` drops it again. */
export async function freshStore(migrations: Migration[]): Promise<{ store: Store; close(): Promise<void> }> {
  const db = await freshDatabase();
  const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
  await migrate(store, migrations);
  return {
    store,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
}
