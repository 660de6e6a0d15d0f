import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import fg from 'fast-glob';
import { pino } from 'pino';
import yaml from 'yaml';
import { isPaveError } from '../../core/errors.ts';
import type { ActionContext, TemplateAction } from '../action.ts';
import { renderValue } from '../expressions.ts';
import { cookiecutterContext, slugify, strftime } from './fetch-cookiecutter.ts';
import {
  debugLog,
  debugWait,
  fetchCookiecutter,
  fetchPlain,
  fetchPlainFile,
  fetchTemplate,
  fetchTemplateFile,
  fsDelete,
  fsRename,
  workspaceActions,
} from './index.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const logger = pino({ level: 'silent' });
let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pave-actions-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function tempDir(name: string): Promise<string> {
  counter += 1;
  const dir = path.join(root, `${name}-${counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

type TreeEntry = string | Buffer | { content: string; mode: number } | { link: string };

async function writeFiles(dir: string, files: Record<string, TreeEntry>): Promise<void> {
  for (const [name, entry] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    if (typeof entry === 'object' && 'link' in entry) await symlink(entry.link, file);
    else if (typeof entry === 'object' && 'mode' in entry) {
      await writeFile(file, entry.content);
      await chmod(file, entry.mode);
    } else await writeFile(file, entry);
  }
}

/** Every file under `dir` with its text (links as `-> target`). */
async function readFiles(dir: string): Promise<Record<string, string>> {
  const files = (await fg('**/*', { cwd: dir, dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false })).filter((f) => !f.endsWith('/'));
  const out: Record<string, string> = {};
  for (const file of files.sort()) {
    const full = path.join(dir, file);
    out[file] = (await lstat(full)).isSymbolicLink() ? `-> ${await readlink(full)}` : await readFile(full, 'utf8');
  }
  return out;
}

interface RunOptions {
  workspace?: string;
  baseUrl?: string;
  signal?: AbortSignal;
}

interface RunResult {
  workspace: string;
  logs: string[];
}

function contextFor<I>(input: I, workspace: string, baseUrl: string, logs: string[], signal = new AbortController().signal): ActionContext<I> {
  return {
    input,
    workspacePath: workspace,
    templateInfo: { baseUrl, entityRef: 'template:default/test' },
    logger,
    log: (message) => logs.push(message),
    output: () => {},
    createTemporaryDirectory: () => tempDir('tmp'),
    secrets: {},
    user: { ref: 'user:default/ada' },
    isDryRun: false,
    signal,
    task: { id: 'task-1' },
    step: { id: 'step-1', name: 'Step' },
  };
}

async function run<I>(action: TemplateAction<I>, input: I, options: RunOptions = {}): Promise<RunResult> {
  const workspace = options.workspace ?? (await tempDir('workspace'));
  const logs: string[] = [];
  await action.handler(contextFor(input, workspace, options.baseUrl ?? pathToFileURL(FIXTURES).href, logs, options.signal));
  return { workspace, logs };
}

/** The code and message of the error a run throws (it must throw a PaveError). */
async function failure<I>(action: TemplateAction<I>, input: I, options: RunOptions = {}): Promise<{ code: string; message: string }> {
  try {
    await run(action, input, options);
  } catch (error) {
    assert.ok(isPaveError(error), `expected a PaveError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  assert.fail(`${action.id} with ${JSON.stringify(input)} should have failed`);
}

async function sourceOf(files: Record<string, TreeEntry>): Promise<string> {
  const dir = await tempDir('source');
  await writeFiles(dir, files);
  return dir;
}

describe('fetch:template', () => {
  test('renders contents and paths with values, as Backstage does', async () => {
    const source = await sourceOf({
      'skeleton/README.md': '# ${{ values.name }}\n\nOwner: ${{ values.owner | default("nobody") }}\n',
      'skeleton/${{ values.name }}/index.js': 'export const name = "${{ values.name }}";\n',
      'skeleton/docs/${{ values.name }}-guide.md': 'count=${{ values.count + 1 }}\n',
      'skeleton/.hidden': 'dot ${{ values.name }}\n',
    });
    const { workspace } = await run(fetchTemplate, { url: './skeleton', values: { name: 'payments', count: 1 } }, { baseUrl: source });
    assert.deepEqual(await readFiles(workspace), {
      '.hidden': 'dot payments\n',
      'README.md': '# payments\n\nOwner: nobody\n',
      'docs/payments-guide.md': 'count=2\n',
      'payments/index.js': 'export const name = "payments";\n',
    });
  });

  test('the template sees values only: not parameters, and Backstage filters are there', async () => {
    const source = await sourceOf({
      'skeleton/out.txt': '[${{ parameters.name }}] ${{ values.repoUrl | projectSlug }} ${{ values.repoUrl | parseRepoUrl | pick("repo") }}\n',
    });
    const { workspace } = await run(fetchTemplate, { url: './skeleton', values: { repoUrl: 'github.com?owner=acme&repo=pay' } }, { baseUrl: source });
    assert.equal(await readFile(path.join(workspace, 'out.txt'), 'utf8'), '[] acme/pay pay\n');
  });

  test('targetPath places the result; the default is the workspace root', async () => {
    const source = await sourceOf({ 's/a.txt': 'A' });
    const inRoot = await run(fetchTemplate, { url: './s' }, { baseUrl: source });
    assert.deepEqual(await readFiles(inRoot.workspace), { 'a.txt': 'A' });
    const inFolder = await run(fetchTemplate, { url: './s', targetPath: 'nested/dir' }, { baseUrl: source });
    assert.deepEqual(await readFiles(inFolder.workspace), { 'nested/dir/a.txt': 'A' });
  });

  test('a path that renders empty, or with an empty folder name, is skipped', async () => {
    const source = await sourceOf({
      's/${{ values.maybe }}': 'root file',
      's/${{ values.folder }}/inside.txt': 'in a skipped folder',
      's/dir/${{ values.maybe }}/deep.txt': 'under an empty folder name',
      's/{% if values.flag %}flagged.txt{% endif %}': 'flag',
      's/kept.txt': 'kept',
    });
    const off = await run(fetchTemplate, { url: './s', values: { flag: false } }, { baseUrl: source });
    assert.deepEqual(await readFiles(off.workspace), { 'kept.txt': 'kept' });
    const on = await run(fetchTemplate, { url: './s', values: { flag: true, maybe: 'x', folder: 'f' } }, { baseUrl: source });
    assert.deepEqual(Object.keys(await readFiles(on.workspace)), ['dir/x/deep.txt', 'f/inside.txt', 'flagged.txt', 'kept.txt', 'x']);
  });

  test('binary files are copied byte for byte, never rendered', async () => {
    const binary = Buffer.concat([Buffer.from('${{ values.name }}'), Buffer.from([0, 1, 2, 255, 0]), Buffer.from('{% if %}')]);
    const source = await sourceOf({ 's/image.bin': binary });
    const { workspace } = await run(fetchTemplate, { url: './s', values: { name: 'x' } }, { baseUrl: source });
    assert.deepEqual(await readFile(path.join(workspace, 'image.bin')), binary);
  });

  test('file modes are kept: an executable stays executable', async () => {
    const source = await sourceOf({ 's/run.sh': { content: '#!/bin/sh\necho ${{ values.name }}\n', mode: 0o755 }, 's/ro.txt': { content: 'r', mode: 0o644 } });
    const { workspace } = await run(fetchTemplate, { url: './s', values: { name: 'x' } }, { baseUrl: source });
    assert.equal((await stat(path.join(workspace, 'run.sh'))).mode & 0o777, 0o755);
    assert.equal((await stat(path.join(workspace, 'ro.txt'))).mode & 0o777, 0o644);
    assert.equal(await readFile(path.join(workspace, 'run.sh'), 'utf8'), '#!/bin/sh\necho x\n');
  });

  test('symbolic links are copied as links; one that points out of the workspace is refused', async () => {
    const inside = await sourceOf({ 's/target.txt': 't', 's/link.txt': { link: 'target.txt' } });
    const { workspace } = await run(fetchTemplate, { url: './s' }, { baseUrl: inside });
    assert.equal(await readlink(path.join(workspace, 'link.txt')), 'target.txt');
    const outside = await sourceOf({ 's/passwd': { link: '../../../../../../../etc/passwd' } });
    const { code } = await failure(fetchTemplate, { url: './s' }, { baseUrl: outside });
    assert.equal(code, 'WORKSPACE_PATH_OUTSIDE');
  });

  test('copyWithoutTemplating copies contents as they are and still renders their paths', async () => {
    const source = await sourceOf({
      's/.github/workflows/${{ values.name }}.yml': 'run: ${{ github.sha }}\n',
      's/README.md': '# ${{ values.name }}\n',
    });
    const { workspace } = await run(fetchTemplate, { url: './s', values: { name: 'ci' }, copyWithoutTemplating: ['.github/workflows/*'] }, { baseUrl: source });
    assert.deepEqual(await readFiles(workspace), { '.github/workflows/ci.yml': 'run: ${{ github.sha }}\n', 'README.md': '# ci\n' });
  });

  test('copyWithoutRender (the older name) copies contents and paths as they are', async () => {
    const source = await sourceOf({ 's/raw/${{ values.name }}.txt': '${{ values.name }}', 's/other.txt': '${{ values.name }}' });
    const { workspace, logs } = await run(fetchTemplate, { url: './s', values: { name: 'n' }, copyWithoutRender: ['raw/*'] }, { baseUrl: source });
    assert.deepEqual(await readFiles(workspace), { 'other.txt': 'n', 'raw/${{ values.name }}.txt': '${{ values.name }}' });
    assert.ok(
      logs.some((l) => l.includes('deprecated')),
      'the step log says copyWithoutRender is deprecated',
    );
  });

  test('templateFileExtension renders only files with the extension, and drops it', async () => {
    const cases: { extension: string | boolean; file: string }[] = [
      { extension: true, file: 'README.md.njk' },
      { extension: 'tmpl', file: 'README.md.tmpl' },
      { extension: '.tmpl', file: 'README.md.tmpl' },
    ];
    for (const { extension, file } of cases) {
      const dir = await sourceOf({ [`s/${file}`]: '# ${{ values.name }}\n', 's/page.html': '${{ raw }}', 's/${{ values.name }}.cfg': 'x' });
      const { workspace } = await run(fetchTemplate, { url: './s', values: { name: 'svc' }, templateFileExtension: extension }, { baseUrl: dir });
      assert.deepEqual(await readFiles(workspace), { 'README.md': '# svc\n', 'page.html': '${{ raw }}', 'svc.cfg': 'x' }, `templateFileExtension ${JSON.stringify(extension)}`);
    }
  });

  test('input combinations that Backstage refuses', async () => {
    const cases: { name: string; input: Record<string, unknown> }[] = [
      { name: 'both copy lists', input: { copyWithoutRender: ['a'], copyWithoutTemplating: ['b'] } },
      { name: 'extension with copyWithoutTemplating', input: { templateFileExtension: true, copyWithoutTemplating: ['b'] } },
      { name: 'extension with copyWithoutRender', input: { templateFileExtension: '.njk', copyWithoutRender: ['b'] } },
      { name: 'extension with cookiecutterCompat', input: { templateFileExtension: true, cookiecutterCompat: true } },
      { name: 'copy list that is not a list', input: { copyWithoutTemplating: 'a' } },
    ];
    for (const { name, input } of cases) {
      const { code } = await failure(fetchTemplate, { url: './skeleton', ...input });
      assert.equal(code, 'ACTION_INPUT_INVALID', name);
    }
  });

  test('cookiecutterCompat: {{ cookiecutter.x }} tags, Jinja syntax and jsonify; values and ${{ }} are not there', async () => {
    const source = await sourceOf({
      's/{{ cookiecutter.name }}.md': '{{ cookiecutter.name }}|{{ cookiecutter.tags[0:1] | jsonify }}|{% if cookiecutter.on == True %}on{% endif %}|${{ values.name }}\n',
    });
    const { workspace } = await run(fetchTemplate, { url: './s', values: { name: 'cc', tags: ['a', 'b'], on: true }, cookiecutterCompat: true }, { baseUrl: source });
    assert.deepEqual(await readFiles(workspace), { 'cc.md': 'cc|["a"]|on|$\n' });
    // Jinja compatibility is switched on for that render only: nunjucks elsewhere has no True.
    const plain = await sourceOf({ 's/t.txt': '[${{ True }}]' });
    const after = await run(fetchTemplate, { url: './s' }, { baseUrl: plain });
    assert.equal(await readFile(path.join(after.workspace, 't.txt'), 'utf8'), '[]');
  });

  test('replace: existing files are kept unless replace is true', async () => {
    const source = await sourceOf({ 's/a.txt': 'new ${{ values.v }}', 's/b.txt': 'b' });
    const workspace = await tempDir('workspace');
    await writeFiles(workspace, { 'a.txt': 'old' });
    await run(fetchTemplate, { url: './s', values: { v: 1 } }, { baseUrl: source, workspace });
    assert.deepEqual(await readFiles(workspace), { 'a.txt': 'old', 'b.txt': 'b' });
    await run(fetchTemplate, { url: './s', values: { v: 2 }, replace: true }, { baseUrl: source, workspace });
    assert.deepEqual(await readFiles(workspace), { 'a.txt': 'new 2', 'b.txt': 'b' });
  });

  test('trimBlocks and lstripBlocks change whitespace around block tags', async () => {
    const template = 'list:\n  {% for x in values.xs %}\n  - ${{ x }}\n  {% endfor %}\nend\n';
    const cases: { input: Record<string, unknown>; expected: string }[] = [
      { input: {}, expected: 'list:\n  \n  - a\n  \n  - b\n  \nend\n' },
      { input: { trimBlocks: true }, expected: 'list:\n    - a\n    - b\n  end\n' },
      { input: { trimBlocks: true, lstripBlocks: true }, expected: 'list:\n  - a\n  - b\nend\n' },
    ];
    for (const { input, expected } of cases) {
      const source = await sourceOf({ 's/list.yaml': template });
      const { workspace } = await run(fetchTemplate, { url: './s', values: { xs: ['a', 'b'] }, ...input }, { baseUrl: source });
      assert.equal(await readFile(path.join(workspace, 'list.yaml'), 'utf8'), expected, JSON.stringify(input));
    }
  });

  test('token is accepted and not needed for local skeletons', async () => {
    const source = await sourceOf({ 's/a.txt': '${{ values.a }}' });
    const { workspace } = await run(fetchTemplate, { url: './s', values: { a: 'ok' }, token: 'ghp_unused' }, { baseUrl: source });
    assert.equal(await readFile(path.join(workspace, 'a.txt'), 'utf8'), 'ok');
  });

  test('paths outside the workspace or the template folder are refused', async () => {
    const source = await sourceOf({ 's/a.txt': 'a', 's/${{ values.up }}/x.txt': 'x', 'secret.txt': 'no' });
    const template = path.join(source, 's');
    const cases: { name: string; input: Record<string, unknown>; baseUrl?: string; code: string }[] = [
      { name: 'targetPath ../x', input: { url: '.', targetPath: '../x' }, baseUrl: template, code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'absolute targetPath elsewhere', input: { url: '.', targetPath: '/tmp/elsewhere' }, baseUrl: template, code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'a path that renders to ../', input: { url: '.', values: { up: '../..' } }, baseUrl: template, code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'url above the template folder', input: { url: '../' }, baseUrl: template, code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'an http url', input: { url: 'https://github.com/acme/templates/tree/main/skeleton' }, code: 'TEMPLATE_SOURCE_UNSUPPORTED' },
      { name: 'a template read over http', input: { url: './skeleton' }, baseUrl: 'https://github.com/acme/templates/blob/main/template.yaml', code: 'TEMPLATE_SOURCE_UNSUPPORTED' },
      { name: 'a missing folder', input: { url: './missing' }, code: 'TEMPLATE_SOURCE_NOT_FOUND' },
      { name: 'a file where a folder is expected', input: { url: './skeleton.txt' }, code: 'TEMPLATE_SOURCE_NOT_FOUND' },
      { name: 'no template location', input: { url: './skeleton' }, baseUrl: '', code: 'TEMPLATE_SOURCE_UNKNOWN' },
    ];
    for (const { name, input, baseUrl, code } of cases) {
      const result = await failure(fetchTemplate, input as { url: string }, { baseUrl });
      assert.equal(result.code, code, `${name}: ${result.message}`);
    }
  });

  test('a template folder may be given as a path, a folder URL or the URL of its template.yaml', async () => {
    for (const baseUrl of [FIXTURES, pathToFileURL(FIXTURES).href, pathToFileURL(path.join(FIXTURES, 'template.yaml')).href]) {
      const { workspace } = await run(fetchTemplate, { url: './skeleton-njk', templateFileExtension: true, values: { name: 'b' } }, { baseUrl });
      assert.equal(await readFile(path.join(workspace, 'README.md'), 'utf8'), '# b\n', baseUrl);
    }
  });

  test('errors name the file; lookups of JavaScript internals are refused', async () => {
    const broken = await sourceOf({ 's/bad.txt': 'line\n${{ values.name | nosuchfilter }}' });
    const bad = await failure(fetchTemplate, { url: './s', values: { name: 'x' } }, { baseUrl: broken });
    assert.equal(bad.code, 'TEMPLATE_RENDER_FAILED');
    assert.match(bad.message, /bad\.txt.*nosuchfilter/);
    const cases = ['${{ values.constructor }}', '${{ "".constructor.constructor("return 1")() }}', '${{ values[values.key] }}'];
    for (const text of cases) {
      const source = await sourceOf({ 's/evil.txt': text });
      const { code } = await failure(fetchTemplate, { url: './s', values: { key: '__proto__' } }, { baseUrl: source });
      assert.equal(code, 'TEMPLATE_EXPRESSION_FORBIDDEN', text);
    }
  });

  test('the 20-file benchmark skeleton renders names into contents and paths', async () => {
    const { workspace } = await run(fetchTemplate, { url: './bench-skeleton', values: { name: 'ledger', owner: 'team-finance' } });
    const files = await readFiles(workspace);
    assert.equal(Object.keys(files).length, 20);
    for (const file of ['src/ledger.js', 'src/routes/ledger-routes.js', 'docs/team-finance-runbook.md']) assert.ok(file in files, `${file} is written`);
    for (const [file, text] of Object.entries(files)) {
      assert.ok(!text.includes('${{') && !file.includes('${{'), `${file} has no expression left`);
      assert.ok(text.includes('ledger') || text.includes('team-finance'), `${file} holds a rendered value`);
    }
    assert.match(files['k8s/deployment.yaml'], /image: team-finance\/ledger:latest/);
  });
});

describe('fetch:template:file', () => {
  test('renders one file to targetPath', async () => {
    const { workspace } = await run(fetchTemplateFile, { url: './skeleton.txt', targetPath: 'out/s.txt', values: { name: 'n', count: 2, itemList: ['a', 'b'] } });
    assert.equal(await readFile(path.join(workspace, 'out/s.txt'), 'utf8'), 'Name: n\nCount: 2\nItems: a, b\n');
  });

  test('keeps an existing file unless replace is true', async () => {
    const workspace = await tempDir('workspace');
    await writeFiles(workspace, { 's.txt': 'old' });
    const kept = await run(fetchTemplateFile, { url: './skeleton.txt', targetPath: 's.txt', values: {} }, { workspace });
    assert.equal(await readFile(path.join(workspace, 's.txt'), 'utf8'), 'old');
    assert.ok(
      kept.logs.some((l) => l.includes('already exists')),
      'the log says the file was kept',
    );
    await run(fetchTemplateFile, { url: './skeleton.txt', targetPath: 's.txt', values: { name: 'x', count: 1, itemList: [] }, replace: true }, { workspace });
    assert.match(await readFile(path.join(workspace, 's.txt'), 'utf8'), /^Name: x\n/);
  });

  test('cookiecutterCompat, trimBlocks and binary files', async () => {
    const source = await sourceOf({ 'f.txt': '{% if cookiecutter.on %}\n{{ cookiecutter.name }}\n{% endif %}\n', 'b.bin': Buffer.from([0, 36, 123, 123]) });
    const { workspace } = await run(fetchTemplateFile, { url: './f.txt', targetPath: 'f.txt', values: { name: 'cc', on: true }, cookiecutterCompat: true, trimBlocks: true }, { baseUrl: source });
    assert.equal(await readFile(path.join(workspace, 'f.txt'), 'utf8'), 'cc\n');
    await run(fetchTemplateFile, { url: './b.bin', targetPath: 'b.bin', values: {} }, { baseUrl: source, workspace });
    assert.deepEqual(await readFile(path.join(workspace, 'b.bin')), Buffer.from([0, 36, 123, 123]));
  });

  test('refuses paths outside the workspace and folders as sources', async () => {
    const cases: { input: { url: string; targetPath: string; values: object }; code: string }[] = [
      { input: { url: './skeleton.txt', targetPath: '../x.txt', values: {} }, code: 'WORKSPACE_PATH_OUTSIDE' },
      { input: { url: '../../x.txt', targetPath: 'x.txt', values: {} }, code: 'WORKSPACE_PATH_OUTSIDE' },
      { input: { url: './skeleton', targetPath: 'x.txt', values: {} }, code: 'TEMPLATE_SOURCE_NOT_FOUND' },
      { input: { url: './skeleton.txt', targetPath: '', values: {} }, code: 'ACTION_INPUT_INVALID' },
    ];
    for (const { input, code } of cases) assert.equal((await failure(fetchTemplateFile, input)).code, code, JSON.stringify(input));
  });
});

describe('fetch:plain and fetch:plain:file', () => {
  test('fetch:plain copies a folder as it is, dotfiles, binaries and modes included, over what is there', async () => {
    const source = await sourceOf({ 'p/a.txt': '${{ values.x }}', 'p/.dot': 'd', 'p/bin/run': { content: '#!/bin/sh\n', mode: 0o755 }, 'p/img.bin': Buffer.from([0, 1]) });
    const workspace = await tempDir('workspace');
    await writeFiles(workspace, { 'into/a.txt': 'old' });
    await run(fetchPlain, { url: './p', targetPath: 'into' }, { baseUrl: source, workspace });
    assert.deepEqual(await readFiles(workspace), { 'into/.dot': 'd', 'into/a.txt': '${{ values.x }}', 'into/bin/run': '#!/bin/sh\n', 'into/img.bin': '\u0000\u0001' });
    assert.equal((await stat(path.join(workspace, 'into/bin/run'))).mode & 0o777, 0o755);
  });

  test('fetch:plain:file copies one file, creating its folder', async () => {
    const { workspace } = await run(fetchPlainFile, { url: './assets/logo.png', targetPath: 'a/b/logo.png' });
    assert.deepEqual(await readFile(path.join(workspace, 'a/b/logo.png')), await readFile(path.join(FIXTURES, 'assets/logo.png')));
  });

  test('both refuse paths outside the workspace or the template folder', async () => {
    assert.equal((await failure(fetchPlain, { url: './assets', targetPath: '../out' })).code, 'WORKSPACE_PATH_OUTSIDE');
    assert.equal((await failure(fetchPlain, { url: '../' })).code, 'WORKSPACE_PATH_OUTSIDE');
    assert.equal((await failure(fetchPlainFile, { url: './assets/logo.png', targetPath: '../../logo.png' })).code, 'WORKSPACE_PATH_OUTSIDE');
    assert.equal((await failure(fetchPlainFile, { url: 'http://example.com/logo.png', targetPath: 'logo.png' })).code, 'TEMPLATE_SOURCE_UNSUPPORTED');
  });
});

describe('fetch:cookiecutter', () => {
  test('renders the fetched folder as cookiecutter does, defaults from cookiecutter.json, values over them', async () => {
    const { workspace } = await run(fetchCookiecutter, { url: './cookiecutter', values: { project_name: 'Pay Ments' } });
    const files = await readFiles(workspace);
    assert.deepEqual(Object.keys(files), ['cookiecutter.json', 'pay-ments/LICENSE', 'pay-ments/README.md', 'pay-ments/static/index.html']);
    assert.equal(files['pay-ments/README.md'], '# Pay Ments\n\nLicensed under MIT.\nRun it with `docker run pay-ments`.\n');
    assert.equal(files['pay-ments/LICENSE'], `Copyright ${new Date().getUTCFullYear()} Pay Ments\nMIT license.\n`);
    // _copy_without_render in cookiecutter.json: *.html is copied as written.
    assert.equal(files['pay-ments/static/index.html'], '<h1>{{ cookiecutter.project_name }}</h1>\n');
  });

  test('the no-input answers: lists take their first item, strings render with the answers so far', () => {
    const context = cookiecutterContext({
      name: 'Big App',
      slug: "{{ cookiecutter.name.lower().replace(' ', '_') }}",
      license: ['BSD', 'MIT'],
      count: 3,
      flag: true,
      nothing: null,
      _private: '{{ not rendered }}',
      __derived: '{{ cookiecutter.slug | upper }}',
      nested: { key: '{{ cookiecutter.slug }}' },
    });
    assert.deepEqual(context, {
      name: 'Big App',
      slug: 'big_app',
      license: 'BSD',
      count: '3',
      flag: true,
      nothing: null,
      _private: '{{ not rendered }}',
      __derived: 'BIG_APP',
      nested: { key: 'big_app' },
    });
  });

  test('values: lists become choices, JSON text is parsed back, imageName is not a variable', async () => {
    const source = await sourceOf({ 'c/out.txt': '{{ cookiecutter.choice }}|{{ cookiecutter.obj.a }}|{{ cookiecutter.n }}|{{ cookiecutter.imageName | default("none") }}' });
    const { workspace, logs } = await run(
      fetchCookiecutter,
      { url: './c', values: { choice: ['first', 'second'], obj: '{"a": "parsed"}', n: '42', imageName: 'x' }, imageName: 'custom/image' },
      { baseUrl: source },
    );
    assert.equal(await readFile(path.join(workspace, 'out.txt'), 'utf8'), 'first|parsed|42|none');
    assert.ok(
      logs.some((l) => l.includes('imageName')),
      'the log says imageName is not used',
    );
  });

  test('copyWithoutRender from the input replaces _copy_without_render, and a copied folder keeps the names inside it', async () => {
    const source = await sourceOf({
      'c/cookiecutter.json': JSON.stringify({ n: 'x', _copy_without_render: ['*.txt'] }),
      'c/{{ cookiecutter.n }}/raw/{{ cookiecutter.n }}.cfg': '{{ cookiecutter.n }}',
      'c/a.txt': '{{ cookiecutter.n }}',
    });
    const { workspace } = await run(fetchCookiecutter, { url: './c', values: {}, copyWithoutRender: ['*/raw'] }, { baseUrl: source });
    assert.deepEqual(await readFiles(workspace), {
      'a.txt': 'x',
      'cookiecutter.json': '{"n":"x","_copy_without_render":["*.txt"]}',
      'x/raw/{{ cookiecutter.n }}.cfg': '{{ cookiecutter.n }}',
    });
  });

  test('Jinja features: if blocks, filters, Python string methods, slugify, uuid4, random_ascii_string', async () => {
    const source = await sourceOf({
      'c/out.txt':
        "{% if cookiecutter.kind == 'lib' %}library{% else %}app{% endif %}|{{ cookiecutter.name | slugify }}|{{ cookiecutter.name.title() }}|{{ cookiecutter.name.split(' ') | length }}|{{ uuid4() | length }}|{{ random_ascii_string(8) | length }}|{{ cookiecutter.name | slugify(separator='_') }}",
    });
    const { workspace } = await run(fetchCookiecutter, { url: './c', values: { name: 'Hello Wörld app', kind: 'lib' } }, { baseUrl: source });
    assert.equal(await readFile(path.join(workspace, 'out.txt'), 'utf8'), 'library|hello-world-app|Hello Wörld App|3|36|8|hello_world_app');
  });

  test('refusals: undefined variables, unknown extensions, bad lists, paths outside', async () => {
    const source = await sourceOf({ 'c/out.txt': '{{ cookiecutter.missing }}', 'ok/a.txt': 'a' });
    const cases: { name: string; input: Record<string, unknown>; code: string }[] = [
      { name: 'undefined variable', input: { url: './c', values: {} }, code: 'TEMPLATE_RENDER_FAILED' },
      { name: 'unknown extension', input: { url: './ok', values: {}, extensions: ['my_ext.Filters'] }, code: 'COOKIECUTTER_EXTENSION_UNSUPPORTED' },
      { name: 'copyWithoutRender not a list', input: { url: './ok', values: {}, copyWithoutRender: '*.md' }, code: 'ACTION_INPUT_INVALID' },
      { name: 'extensions not a list', input: { url: './ok', values: {}, extensions: 'x' }, code: 'ACTION_INPUT_INVALID' },
      { name: 'targetPath outside', input: { url: './ok', values: {}, targetPath: '../x' }, code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'empty choice list', input: { url: './ok', values: { pick: [] } }, code: 'COOKIECUTTER_CONTEXT_INVALID' },
    ];
    for (const { name, input, code } of cases) {
      const result = await failure(fetchCookiecutter, input as { url: string; values: Record<string, unknown> }, { baseUrl: source });
      assert.equal(result.code, code, `${name}: ${result.message}`);
    }
  });

  test('slugify and strftime behave as their Python originals for common input', () => {
    const slugs: [string, string][] = [
      ['Hello World', 'hello-world'],
      ["It's a Test!", 'its-a-test'],
      ['  Ünïcödé  --  text ', 'unicode-text'],
    ];
    for (const [input, expected] of slugs) assert.equal(slugify(input), expected, input);
    const date = new Date(Date.UTC(2024, 1, 29, 13, 5, 9));
    assert.equal(strftime(date, 'utc', '%Y-%m-%d %H:%M:%S %a %b %j %I%p %z %%'), '2024-02-29 13:05:09 Thu Feb 060 01PM +0000 %');
    assert.equal(strftime(date, 'Asia/Tokyo', '%H %z'), '22 +0900');
  });
});

describe('fs:rename', () => {
  test('renames files and folders, creating folders on the way', async () => {
    const workspace = await tempDir('workspace');
    await writeFiles(workspace, { 'a.txt': 'a', 'dir/b.txt': 'b', 'c.txt': 'c', 'd.txt': 'old' });
    await run(
      fsRename,
      { files: [{ from: 'a.txt', to: 'moved/a2.txt' }, { from: 'dir', to: 'dir2' }, { from: 'c.txt', to: 'd.txt', overwrite: true }] },
      { workspace },
    );
    assert.deepEqual(await readFiles(workspace), { 'd.txt': 'c', 'dir2/b.txt': 'b', 'moved/a2.txt': 'a' });
  });

  test('refusals', async () => {
    const cases: { name: string; files: unknown; code: string }[] = [
      { name: 'target exists without overwrite', files: [{ from: 'a.txt', to: 'b.txt' }], code: 'FS_RENAME_TARGET_EXISTS' },
      { name: 'missing source', files: [{ from: 'nope.txt', to: 'x.txt' }], code: 'FS_RENAME_SOURCE_MISSING' },
      { name: 'from outside', files: [{ from: '../a.txt', to: 'x.txt' }], code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'to outside', files: [{ from: 'a.txt', to: '../../x.txt' }], code: 'WORKSPACE_PATH_OUTSIDE' },
      { name: 'no to', files: [{ from: 'a.txt' }], code: 'ACTION_INPUT_INVALID' },
      { name: 'into itself', files: [{ from: 'dir', to: 'dir/sub' }], code: 'ACTION_INPUT_INVALID' },
      { name: 'not a list', files: 'a.txt', code: 'ACTION_INPUT_INVALID' },
    ];
    for (const { name, files, code } of cases) {
      const workspace = await tempDir('workspace');
      await writeFiles(workspace, { 'a.txt': 'a', 'b.txt': 'b', 'dir/x': 'x' });
      const result = await failure(fsRename, { files } as { files: { from: string; to: string }[] }, { workspace });
      assert.equal(result.code, code, `${name}: ${result.message}`);
      assert.equal(await readFile(path.join(workspace, 'a.txt'), 'utf8'), 'a', `${name}: a.txt is untouched`);
    }
  });
});

describe('fs:delete', () => {
  const cases: { name: string; files: string[]; left: string[] }[] = [
    { name: 'named files', files: ['a.txt', 'sub/b.txt'], left: ['.env', 'c.md', 'sub/d.md'] },
    { name: 'a folder', files: ['sub'], left: ['.env', 'a.txt', 'c.md'] },
    { name: 'a glob at the root', files: ['*.txt'], left: ['.env', 'c.md', 'sub/b.txt', 'sub/d.md'] },
    { name: 'a deep glob, dotfiles included', files: ['**/*.md', '.*'], left: ['a.txt', 'sub/b.txt'] },
    { name: 'a Windows-style path', files: ['.\\a.txt'], left: ['.env', 'c.md', 'sub/b.txt', 'sub/d.md'] },
    { name: 'a file that is not there', files: ['nothing.txt'], left: ['.env', 'a.txt', 'c.md', 'sub/b.txt', 'sub/d.md'] },
  ];
  for (const { name, files, left } of cases) {
    test(name, async () => {
      const workspace = await tempDir('workspace');
      await writeFiles(workspace, { 'a.txt': 'a', 'sub/b.txt': 'b', 'c.md': 'c', 'sub/d.md': 'd', '.env': 'e' });
      await run(fsDelete, { files }, { workspace });
      assert.deepEqual(Object.keys(await readFiles(workspace)), left);
    });
  }

  test('refuses paths outside the workspace and the workspace itself', async () => {
    const outside = await tempDir('outside');
    await writeFiles(outside, { 'keep.txt': 'k' });
    const workspace = path.join(outside, 'ws');
    await writeFiles(workspace, { 'a.txt': 'a' });
    const cases: { files: string[]; code: string }[] = [
      { files: ['../keep.txt'], code: 'WORKSPACE_PATH_OUTSIDE' },
      { files: ['/foo/../../../index.js'], code: 'WORKSPACE_PATH_OUTSIDE' },
      { files: ['../**/keep.txt'], code: 'WORKSPACE_PATH_OUTSIDE' },
      { files: [path.join(outside, 'keep.txt')], code: 'WORKSPACE_PATH_OUTSIDE' },
      { files: ['.'], code: 'ACTION_INPUT_INVALID' },
      { files: [''], code: 'ACTION_INPUT_INVALID' },
    ];
    for (const { files, code } of cases) assert.equal((await failure(fsDelete, { files }, { workspace })).code, code, JSON.stringify(files));
    assert.equal(await readFile(path.join(outside, 'keep.txt'), 'utf8'), 'k');
    assert.equal((await failure(fsDelete, { files: 'a.txt' as unknown as string[] }, { workspace })).code, 'ACTION_INPUT_INVALID');
  });
});

describe('debug:log', () => {
  test('writes the message and lists the workspace as asked', async () => {
    const workspace = await tempDir('workspace');
    await writeFiles(workspace, { 'b.txt': 'bee\nline 2', 'a/c.txt': 'see', 'bin.dat': Buffer.from([0, 1, 2]) });
    const cases: { input: Record<string, unknown>; expected: string[] }[] = [
      { input: { message: 'hello' }, expected: ['hello'] },
      { input: {}, expected: [] },
      { input: { listWorkspace: true }, expected: ['Workspace:\n  - a/c.txt\n  - b.txt\n  - bin.dat'] },
      { input: { message: 'm', listWorkspace: 'with-filenames' }, expected: ['m', 'Workspace:\n  - a/c.txt\n  - b.txt\n  - bin.dat'] },
      {
        input: { listWorkspace: 'with-contents' },
        expected: ['Workspace:\n  - a/c.txt:\n    see\n  - b.txt:\n    bee\n    line 2\n  - bin.dat:\n  (binary, 3 bytes)'],
      },
    ];
    for (const { input, expected } of cases) {
      const { logs } = await run(debugLog, input, { workspace });
      assert.deepEqual(logs, expected, JSON.stringify(input));
    }
    assert.equal((await failure(debugLog, { listWorkspace: 'everything' as 'with-contents' }, { workspace })).code, 'ACTION_INPUT_INVALID');
  });
});

describe('debug:wait', () => {
  test('waits for the sum of its units', async () => {
    const started = performance.now();
    const { logs } = await run(debugWait, { seconds: 0.05, milliseconds: 50 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95, `waited ${elapsed} ms for 100 ms`);
    assert.deepEqual(logs, ['Waited 100 milliseconds']);
  });

  test('refuses more than 10 minutes and negative waits', async () => {
    const cases: { input: Record<string, number>; code: string }[] = [
      { input: { minutes: 10, milliseconds: 1 }, code: 'DEBUG_WAIT_TOO_LONG' },
      { input: { seconds: 601 }, code: 'DEBUG_WAIT_TOO_LONG' },
      { input: { seconds: -1 }, code: 'ACTION_INPUT_INVALID' },
    ];
    for (const { input, code } of cases) assert.equal((await failure(debugWait, input)).code, code, JSON.stringify(input));
  });

  test('a cancelled run stops waiting at once', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    const { logs } = await run(debugWait, { minutes: 10 }, { signal: controller.signal });
    assert.ok(performance.now() - started < 5000, 'stopped well before 10 minutes');
    assert.deepEqual(logs, ['Stopped waiting: the run was cancelled']);
    const aborted = new AbortController();
    aborted.abort();
    assert.deepEqual((await run(debugWait, { minutes: 1 }, { signal: aborted.signal })).logs, []);
  });
});

/** What each example must have done to its workspace (or its log), keyed by action and example index. */
const EXAMPLE_SETUP: Record<string, Record<string, TreeEntry>> = {
  'fs:rename#0': { 'file1.txt': '1', 'file2.txt': '2', 'file3.txt': '3', 'file3Renamed.txt': 'old' },
  'fs:delete#0': { 'file1.txt': '1', 'file2.txt': '2', 'keep.md': 'k' },
  'fs:delete#1': { 'file1.txt': '1', 'notes.txt': 'n', 'keep.md': 'k' },
  'debug:log#1': { 'a.txt': 'a' },
  'debug:log#2': { 'a.txt': 'a' },
};

const EXAMPLE_CHECKS: Record<string, (files: Record<string, string>, logs: string[]) => void> = {
  'fetch:template#0': (files) => {
    assert.deepEqual(Object.keys(files), ['target/.github/workflows/ci.yml', 'target/README.md', 'target/catalog-info.yaml']);
    assert.equal(files['target/README.md'], '# Payments API\n\nThis project counts to 1234.\n\n- first\n- second\n- third\n');
    assert.match(files['target/catalog-info.yaml'], /name: Payments API/);
  },
  'fetch:template#1': (files) => {
    assert.equal(files['dummy.txt'], 'Shown because showDummyFile is true.\n');
    assert.match(files['.github/workflows/ci.yml'], /Building \$\{\{ github\.sha \}\}/);
  },
  'fetch:template#2': (files) => assert.deepEqual(files, { 'README.md': '# Payments API\n', 'page.html': '<p>${{ copied as it is }}</p>\n' }),
  'fetch:template#3': (files) =>
    assert.deepEqual(files, { 'README.md': '# Payments API\nThis repository is private.\nValues: {"name":"Payments API","private":true}\n' }),
  'fetch:template:file#0': (files) => assert.deepEqual(files, { 'target/skeleton.txt': 'Name: Payments API\nCount: 1234\nItems: first, second, third\n' }),
  'fetch:plain#0': (files) => assert.deepEqual(Object.keys(files), ['.keep', 'logo.png', 'notes.txt']),
  'fetch:plain#1': (files) => {
    assert.deepEqual(Object.keys(files), ['fetched-data/.keep', 'fetched-data/logo.png', 'fetched-data/notes.txt']);
    assert.equal(files['fetched-data/notes.txt'], 'Notes for ${{ values.name }}, copied as they are.\n');
  },
  'fetch:plain:file#0': (files) => assert.deepEqual(Object.keys(files), ['docs/logo.png']),
  'fetch:cookiecutter#0': (files) => assert.match(files['payments-api/README.md'], /^# Payments API\n/),
  'fetch:cookiecutter#1': (files) => assert.match(files['custom-path/payments-api/README.md'], /^# Payments API\n/),
  'fetch:cookiecutter#2': (files) => {
    assert.match(files['payments-api/README.md'], /\{\{ cookiecutter\.project_name \}\}/);
    assert.equal(files['payments-api/static/index.html'], '<h1>Payments API</h1>\n');
  },
  'fetch:cookiecutter#3': (files) => assert.match(files['payments-api/LICENSE'], /^Copyright \d{4} Payments API\n/),
  'fetch:cookiecutter#4': (files, logs) => {
    assert.ok('payments-api/README.md' in files, 'the project is rendered');
    assert.ok(
      logs.some((l) => l.includes('custom/cookiecutter-image')),
      'the log says the image is not used',
    );
  },
  'fs:rename#0': (files) => assert.deepEqual(files, { 'file1Renamed.txt': '1', 'file2Renamed.txt': '2', 'file3Renamed.txt': '3' }),
  'fs:delete#0': (files) => assert.deepEqual(files, { 'keep.md': 'k' }),
  'fs:delete#1': (files) => assert.deepEqual(files, { 'keep.md': 'k' }),
  'debug:log#0': (_files, logs) => assert.deepEqual(logs, ['Hello Backstage!']),
  'debug:log#1': (_files, logs) => assert.deepEqual(logs, ['Workspace:\n  - a.txt']),
  'debug:log#2': (_files, logs) => assert.deepEqual(logs, ['Workspace:\n  - a.txt:\n    a']),
  'debug:wait#0': (_files, logs) => assert.deepEqual(logs, ['Waited 500 milliseconds']),
  'debug:wait#1': (_files, logs) => assert.deepEqual(logs, ['Stopped waiting: the run was cancelled']),
  'debug:wait#2': (_files, logs) => assert.deepEqual(logs, ['Stopped waiting: the run was cancelled']),
};

describe('every action', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });

  test('has Backstage\'s id, a JSON Schema, runnable examples, and runs in a dry-run', () => {
    assert.deepEqual(
      workspaceActions.map((a) => a.id),
      ['fetch:template', 'fetch:template:file', 'fetch:plain', 'fetch:plain:file', 'fetch:cookiecutter', 'fs:rename', 'fs:delete', 'debug:log', 'debug:wait'],
    );
    for (const action of workspaceActions) {
      assert.equal(action.supportsDryRun, true, action.id);
      assert.equal(action.schema.input.type, 'object', action.id);
      assert.ok(ajv.compile(action.schema.input), `${action.id} has a valid schema`);
      assert.ok(action.examples.length > 0, `${action.id} has examples`);
      assert.ok(action.description.length > 0, `${action.id} has a description`);
    }
  });

  for (const action of workspaceActions) {
    action.examples.forEach((example, index) => {
      const key = `${action.id}#${index}`;
      test(`example ${key}: ${example.description}`, async () => {
        const steps = (yaml.parse(example.example) as { steps: { action: string; input: Record<string, unknown> }[] }).steps;
        assert.equal(steps.length, 1, key);
        assert.equal(steps[0].action, action.id, key);
        const input = renderValue(steps[0].input, { parameters: { name: 'Payments API' } }) as Record<string, unknown>;
        const validate = ajv.compile(action.schema.input);
        assert.ok(validate(input), `${key} input matches the schema: ${ajv.errorsText(validate.errors)}`);
        const check = EXAMPLE_CHECKS[key];
        assert.ok(check, `${key} has a check`);
        const workspace = await tempDir('example');
        await writeFiles(workspace, EXAMPLE_SETUP[key] ?? {});
        // Waits longer than a test should are run and cancelled.
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 50);
        const long = action.id === 'debug:wait' && (Number(input.seconds ?? 0) > 1 || Number(input.minutes ?? 0) > 0);
        if (!long) clearTimeout(timer);
        const { logs } = await run(action, input, { workspace, signal: controller.signal });
        clearTimeout(timer);
        check(await readFiles(workspace), logs);
      });
    });
  }
});
