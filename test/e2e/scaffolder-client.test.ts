// The official ScaffolderClient (@backstage/plugin-scaffolder-common), pointed at Pave, used
// unchanged for every method. It is a browser library: its event-stream code calls
// window.setTimeout and document's visibility events, so `window` is this process's global
// object and `document` a stand-in with no events, both set once the embedded database has
// started (PGlite takes a defined `window` for a browser).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ScaffolderClient } from '@backstage/plugin-scaffolder-common';
import { eventually, startTestPave, type TestPave } from '../../src/testing/pave.ts';
import { NODE_SERVICE_SKELETON, NODE_SERVICE_TEMPLATE } from './fixtures/node-service.ts';
import { orgYaml } from '../../src/testing/org.ts';

const ORG = orgYaml(['team-a']);

const TEMPLATE = NODE_SERVICE_TEMPLATE;

const SKELETON = NODE_SERVICE_SKELETON;

let pave: TestPave;
let work: string;
let client: ScaffolderClient;

function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })),
  );
}

before(async () => {
  pave = await startTestPave();
  (globalThis as any).window ??= globalThis;
  (globalThis as any).document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-scaffolder-'));
  fs.writeFileSync(path.join(work, 'org.yaml'), ORG);
  fs.writeFileSync(path.join(work, 'template.yaml'), TEMPLATE);
  for (const [file, content] of Object.entries(SKELETON)) {
    fs.mkdirSync(path.dirname(path.join(work, 'skeleton', file)), { recursive: true });
    fs.writeFileSync(path.join(work, 'skeleton', file), content);
  }
  for (const file of ['org.yaml', 'template.yaml']) {
    const res = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, file) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/template/default/node-service')).status === 200 ? true : undefined), 10_000, 'the template');
  const token = pave.token;
  client = new ScaffolderClient({
    discoveryApi: { getBaseUrl: async () => `${pave.url}/api/scaffolder` },
    fetchApi: { fetch: (input: any, init?: any) => fetch(input, { ...init, headers: { ...(init?.headers ?? {}), authorization: `Bearer ${token}` } }) },
    identityApi: { getBackstageIdentity: async () => ({ type: 'user', userEntityRef: 'user:default/admin', ownershipEntityRefs: [] }) } as any,
    scmIntegrationsApi: {} as any,
  });
});

after(async () => {
  await pave.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('getTemplateParameterSchema, listActions and listTemplatingExtensions', async () => {
  const schema = await client.getTemplateParameterSchema('template:default/node-service');
  assert.equal(schema.title, 'Node service', 'title');
  assert.deepEqual(schema.steps.map((s) => s.title), ['About the service', 'Options'], 'one step per page');
  assert.equal((schema.steps[0].schema as any).properties.name['ui:field'], 'EntityNamePicker', 'ui hints kept');
  const actions = await client.listActions();
  const ids = actions.map((a) => a.id);
  for (const id of ['fetch:template', 'fetch:plain', 'fetch:cookiecutter', 'fs:rename', 'fs:delete', 'debug:log', 'debug:wait', 'catalog:register', 'catalog:write', 'catalog:fetch', 'publish:pave', 'publish:github']) {
    assert.ok(ids.includes(id), `action ${id} listed`);
  }
  assert.ok(actions.every((a) => a.schema?.input && Array.isArray(a.examples) && a.examples.length > 0), 'each action has an input schema and examples');
  const extensions = await client.listTemplatingExtensions();
  assert.ok(['parseRepoUrl', 'parseEntityRef', 'pick', 'projectSlug'].every((f) => f in extensions.filters), `filters listed: ${Object.keys(extensions.filters)}`);
});

test('scaffold, getTask, streamLogs over the event stream: a repository and a catalog entity', async () => {
  const { taskId } = await client.scaffold({ templateRef: 'template:default/node-service', values: { name: 'payments', owner: 'group:default/team-a', apiKey: 'sk-very-secret-123' } });
  const events: any[] = [];
  await new Promise<void>((resolve, reject) => {
    client.streamLogs({ taskId }).subscribe({ next: (e) => events.push(e), complete: resolve, error: reject });
  });
  const completion = events.at(-1);
  assert.equal(completion.type, 'completion', JSON.stringify(events.map((e) => e.body.message)));
  const task = await client.getTask(taskId);
  assert.equal(task.status, 'completed', JSON.stringify(events.map((e) => e.body.message)));
  assert.deepEqual(
    events.filter((e) => e.type === 'log' && e.body.status === 'completed').map((e) => e.body.stepId),
    ['fetch', 'log', 'publish', 'register'],
    'each step completed in order (wait skipped by its if)',
  );
  assert.ok(events.some((e) => e.body.stepId === 'wait' && e.body.status === 'skipped'), 'the skipped step says so');
  const text = JSON.stringify(events);
  assert.ok(!text.includes('sk-very-secret-123'), 'the secret never reaches the log');
  assert.ok(text.includes('Key is *** for payments'), 'it is masked where it was used');
  assert.ok(!JSON.stringify(task.spec).includes('sk-very-secret-123'), 'nor the stored task');
  assert.equal(completion.body.output.links[1].entityRef, 'component:default/payments', `output rendered: ${JSON.stringify(completion.body.output)}`);

  const entity = await pave.api('GET', '/api/catalog/entities/by-name/component/default/payments');
  assert.equal(entity.status, 200, 'the new service is in the catalog');
  assert.equal(entity.body.spec.owner, 'group:default/team-a', 'owned by the chosen team');
  const repo = (await pave.api('GET', '/api/git/repos/acme/payments')).body;
  assert.equal(repo.entityRef, 'component:default/payments', 'the repository belongs to its entity');
  const clone = await git(work, 'clone', '-q', repo.cloneUrl.replace('http://', `http://pave:${encodeURIComponent(pave.token)}@`), 'payments-clone');
  assert.equal(clone.code, 0, clone.out);
  assert.equal(fs.readFileSync(path.join(work, 'payments-clone', 'src', 'index.ts'), 'utf8'), "export const name = 'payments';\n", 'the skeleton rendered and pushed');
});

test('streamLogs by long polling, listTasks', async () => {
  const { taskId } = await client.scaffold({ templateRef: 'node-service', values: { name: 'ledger', owner: 'group:default/team-a' } });
  const polling = new ScaffolderClient({ ...(client as any), discoveryApi: (client as any).discoveryApi, fetchApi: (client as any).fetchApi, identityApi: (client as any).identityApi, scmIntegrationsApi: {} as any, useLongPollingLogs: true });
  const events: any[] = [];
  await new Promise<void>((resolve, reject) => polling.streamLogs({ taskId }).subscribe({ next: (e) => events.push(e), complete: resolve, error: reject }));
  assert.equal(events.at(-1).type, 'completion', 'polled to the end');
  assert.equal(events.at(-1).body.status, 'completed', JSON.stringify(events.at(-1).body));
  const list = await client.listTasks({ filterByOwnership: 'all', limit: 10 });
  assert.ok(list.tasks.some((t) => t.id === taskId), 'listed');
  assert.ok((list.totalTasks ?? 0) >= 2, `a total: ${list.totalTasks}`);
});

test('cancelTask stops a waiting run; retry runs it again', async () => {
  const { taskId } = await client.scaffold({ templateRef: 'template:default/node-service', values: { name: 'slow', owner: 'group:default/team-a', wait: 30 } });
  await eventually(async () => ((await client.getTask(taskId)).status === 'processing' ? true : undefined), 10_000, 'the run to start');
  const cancelled = await client.cancelTask(taskId);
  assert.equal(cancelled.status, 'cancelled', 'cancelled');
  await eventually(async () => ((await client.getTask(taskId)).status === 'cancelled' ? true : undefined), 10_000, 'the run to stay cancelled');
  const retried = await client.retry(taskId);
  assert.equal(retried.id, taskId, 'the same task runs again');
  await eventually(async () => (['processing', 'open'].includes((await client.getTask(taskId)).status) ? true : undefined), 10_000, 'the retry to start');
  await client.cancelTask(taskId);
});

test('dryRun returns the files and the log, with side effects simulated', async () => {
  const directoryContents = Object.entries(SKELETON).map(([p, c]) => ({ path: `skeleton/${p}`, base64Content: Buffer.from(c).toString('base64') }));
  const { parse } = await import('yaml');
  const result = await client.dryRun({ template: parse(TEMPLATE), values: { name: 'preview', owner: 'group:default/team-a' }, directoryContents });
  assert.deepEqual(result.directoryContents.map((f) => f.path), ['README.md', 'catalog-info.yaml', 'src/index.ts'], 'the files it would produce');
  assert.equal(Buffer.from(result.directoryContents[0].base64Content, 'base64').toString(), '# preview\n\nOwned by group:default/team-a.\n', 'rendered');
  assert.ok(result.log.some((l) => /Dry run: would create acme\/preview/.test(l.body.message)), 'publishing simulated');
  assert.equal((await pave.api('GET', '/api/git/repos/acme/preview')).status, 404, 'no repository was created');
});

test('bad input: unknown template, invalid values, a taken repository name, a broken template', async () => {
  await assert.rejects(client.scaffold({ templateRef: 'template:default/nope', values: {} }), /TEMPLATE_NOT_FOUND|404/, 'unknown template');
  const invalid = await pave.api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/node-service', values: { name: 'Not Valid!' } });
  assert.equal(invalid.status, 400, JSON.stringify(invalid.body));
  assert.equal(invalid.body.error.code, 'TEMPLATE_PARAMETERS_INVALID', 'a stable code');
  const fields = invalid.body.error.details.errors.map((e: any) => e.field).sort();
  assert.deepEqual(fields, ['name', 'owner'], 'each field named');
  const taken = await pave.api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/node-service', values: { name: 'payments', owner: 'group:default/team-a' } });
  assert.equal(taken.status, 409, JSON.stringify(taken.body));
  assert.equal(taken.body.error.code, 'GIT_REPO_EXISTS', 'the name is taken: refused before anything is created');

  fs.writeFileSync(
    path.join(work, 'broken.yaml'),
    TEMPLATE.replace('name: node-service', 'name: broken').replace('action: debug:log', 'action: debug:lgo').replace("message: 'Key is", "message: '${{ parameters.name | }} Key is"),
  );
  const res = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'broken.yaml') });
  assert.equal(res.status, 201, 'the location is registered');
  const location = await eventually(async () => {
    const l = (await pave.api('GET', `/api/catalog/locations/${res.body.location.id}`)).body;
    return l.status?.errors?.length ? l : undefined;
  }, 10_000, 'the template to be refused');
  const message = JSON.stringify(location.status.errors);
  assert.match(message, /step \\"log\\"|step "log"/, `names the step: ${message}`);
  assert.match(message, /debug:lgo/, `names the unknown action: ${message}`);
  assert.match(message, /:\d+:\d+|"line":\d+/, `with its position: ${message}`);
  assert.equal((await pave.api('GET', '/api/catalog/entities/by-name/template/default/broken')).status, 404, 'the broken template is not in the catalog');
});

test('pave template run, dry-run and validate', async () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const cli = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--server', pave.url, '--token', pave.token], { cwd: root, env: { ...process.env, PAVE_CONFIG_DIR: work } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
  fs.writeFileSync(path.join(work, 'values.yaml'), 'name: refunds\nowner: group:default/team-a\n');
  const run = await cli('template', 'run', 'node-service', '--values', path.join(work, 'values.yaml'), '--secret', 'apiKey=cli-secret-456');
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /\[publish\] Pushed [0-9a-f]{12}/, run.out);
  assert.match(run.out, /Run completed with status: completed/, run.out);
  assert.match(run.out, /Open in catalog: component:default\/refunds/, run.out);
  assert.ok(!run.out.includes('cli-secret-456'), 'the secret is not printed');

  const dry = await cli('template', 'dry-run', path.join(work, 'template.yaml'), '--set', 'name=preview-cli', '--set', 'owner=group:default/team-a', '--out', path.join(work, 'dry'));
  assert.equal(dry.code, 0, dry.out);
  assert.equal(fs.readFileSync(path.join(work, 'dry', 'README.md'), 'utf8'), '# preview-cli\n\nOwned by group:default/team-a.\n', 'the files it would make, written out');

  const ok = await cli('template', 'validate', path.join(work, 'template.yaml'));
  assert.equal(ok.code, 0, ok.out);
  const bad = await cli('template', 'validate', path.join(work, 'broken.yaml'));
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /broken\.yaml:\d+:\d+: .*TEMPLATE_ACTION_UNKNOWN: step "log": no action "debug:lgo"/, bad.out);
});

test('publish:github:pull-request (mapped onto Pave) proposes the workspace as a change request', async () => {
  const propose = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: propose }
spec:
  owner: team-a
  type: service
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input: { url: ./skeleton, targetPath: ./extra, values: { name: extra, owner: team-a } }
    - id: pr
      name: Open a pull request
      action: publish:github:pull-request
      input: { repoUrl: 'github.com?owner=acme&repo=payments', branchName: add-extra, title: Add extra, description: From a template }
  output:
    links:
      - title: Pull request
        url: \${{ steps.pr.output.remoteUrl }}
`;
  fs.writeFileSync(path.join(work, 'propose.yaml'), propose);
  await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'propose.yaml') });
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/template/default/propose')).status === 200 ? true : undefined), 10_000, 'the template');
  const { taskId } = await client.scaffold({ templateRef: 'template:default/propose', values: {} });
  await eventually(async () => (['completed', 'failed'].includes((await client.getTask(taskId)).status) ? true : undefined), 20_000, 'the run to end');
  const task = await client.getTask(taskId);
  const events = (await pave.api('GET', `/api/scaffolder/v2/tasks/${taskId}/events`)).body;
  assert.equal(task.status, 'completed', JSON.stringify(events.map((e: any) => e.body.message)));
  const changes = (await pave.api('GET', '/api/git/repos/acme/payments/changes?status=open')).body.items;
  assert.equal(changes.length, 1, 'one change request');
  assert.deepEqual({ title: changes[0].title, source: changes[0].sourceBranch, target: changes[0].targetBranch }, { title: 'Add extra', source: 'add-extra', target: 'main' }, 'opened from the branch into main');
  const details = (await pave.api('GET', `/api/git/repos/acme/payments/changes/${changes[0].number}`)).body;
  assert.ok(details.files.some((f: any) => f.path === 'extra/README.md'), `the workspace landed under targetPath: ${JSON.stringify(details.files)}`);
  assert.equal(events.at(-1).body.output.links[0].url, `${pave.url}/api/git/repos/acme/payments/changes/${changes[0].number}`, 'the output links to it');
});
