import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestPave, type TestPave } from '../../src/testing/pave.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
// Nothing from the machine running the tests: no PAVE_TOKEN, PAVE_SERVER or saved sign-in.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PAVE_TOKEN' && k !== 'PAVE_SERVER'));
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-cli-config-'));

async function pave(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: root,
      env: { ...cleanEnv, PAVE_CONFIG_DIR: configDir, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('pave CLI', () => {
  let dir: string;
  let server: TestPave;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-cli-'));
    fs.writeFileSync(
      path.join(dir, 'good.yaml'),
      `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: Takes the money
spec:
  type: service
  lifecycle: production
  owner: team-a
`,
    );
    fs.writeFileSync(
      path.join(dir, 'component-missing-owner.yaml'),
      `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: no-owner
spec:
  type: service
  lifecycle: production
`,
    );
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'kind: Component\nmetadata:\n  name: "unterminated\n');
    server = await startTestPave();
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  test('validate passes good files with exit code 0', async () => {
    const r = await pave(['catalog', 'validate', path.join(dir, 'good.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 entities valid/);
  });

  test('validate reports file:line:col and exits 1', async () => {
    const missing = path.join(dir, 'component-missing-owner.yaml');
    const broken = path.join(dir, 'broken.yaml');
    const r = await pave(['catalog', 'validate', missing, broken]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${missing.replace(/[.]/g, '\\.')}:14:3: ENTITY_INVALID: component:default/no-owner: spec\\.owner`));
    assert.match(r.stdout, new RegExp(`${broken.replace(/[.]/g, '\\.')}:\\d+:\\d+: YAML_INVALID`));
    const json = await pave(['catalog', 'validate', '--json', missing]);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.valid, false);
    assert.equal(parsed.findings[0].line, 14);
  });

  test('import, list and get against a running Pave', async () => {
    const flags = ['--server', server.url];
    // The running Pave wants a token; an admin's, so the checks below are about the catalog.
    const auth = { PAVE_TOKEN: server.token };
    const dry = await pave([...flags, 'catalog', 'import', '--dry-run', '--json', path.join(dir, 'good.yaml')], auth);
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(JSON.parse(dry.stdout).entities.some((e: any) => e.metadata.name === 'checkout'), 'JSON.parse(dry.stdout).entities.some((e: any) => e.metadata.name === \'checkout\')');
    const imp = await pave([...flags, 'catalog', 'import', path.join(dir, 'good.yaml')], auth);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /component:default\/checkout/);
    const list = await pave([...flags, 'catalog', 'list', '--filter', 'kind=component', '--json'], auth);
    const page = JSON.parse(list.stdout);
    assert.deepEqual(page.items.map((e: any) => e.metadata.name), ['checkout']);
    const get = await pave([...flags, 'catalog', 'get', 'component:checkout'], auth);
    assert.match(get.stdout, /name: checkout/);
    assert.match(get.stdout, /targetRef: group:default\/team-a/);
    const missing = await pave([...flags, 'catalog', 'get', 'component:nope'], auth);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENTITY_NOT_FOUND/);
  });

  test('a server that is not running gives a clear error', async () => {
    const r = await pave(['--server', 'http://127.0.0.1:1', 'catalog', 'list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach Pave at http:\/\/127\.0\.0\.1:1/);
  });
});
