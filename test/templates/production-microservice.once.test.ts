import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import fg from 'fast-glob';
import { pino } from 'pino';
import { Language, Parser, type Node } from 'web-tree-sitter';
import yaml from 'yaml';
import { EntityValidator } from '../../src/catalog/validation.ts';
import type { ActionContext, TemplateAction } from '../../src/scaffolder/action.ts';
import { workspaceActions } from '../../src/scaffolder/actions/index.ts';
import { isTruthy, renderValue, type TemplateContext } from '../../src/scaffolder/expressions.ts';
import { checkTemplate, checkValues, type TemplateEntity } from '../../src/scaffolder/template.ts';

const require = createRequire(import.meta.url);

/**
 * Pave's built-in golden path, end to end short of publishing: the template is a valid Template,
 * its fetch steps render each language's service exactly as a run would, the catalog file it
 * writes is valid, and the generated service builds, passes its own tests and answers /healthz.
 * Runs once (no store): it builds real projects with npm, python3 and cargo.
 */

const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/production-microservice/', import.meta.url));
const PAVE_ACTIONS = ['publish:pave', 'catalog:register', 'catalog:write', 'catalog:fetch'];
const actions = new Map<string, TemplateAction>(workspaceActions.map((a) => [a.id, a]));
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validator = new EntityValidator();
const logger = pino({ level: 'silent' });

let template: TemplateEntity;
let root: string;

before(async () => {
  template = yaml.parse(await readFile(path.join(TEMPLATE_DIR, 'template.yaml'), 'utf8')) as TemplateEntity;
  root = await mkdtemp(path.join(os.tmpdir(), 'pave-golden-path-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function contextFor(input: Record<string, unknown>, workspace: string, logs: string[]): ActionContext {
  return {
    input,
    workspacePath: workspace,
    templateInfo: { baseUrl: pathToFileURL(TEMPLATE_DIR).href, entityRef: 'template:default/production-microservice' },
    logger,
    log: (message) => logs.push(message),
    output: () => {},
    createTemporaryDirectory: () => mkdtemp(path.join(root, 'tmp-')),
    secrets: {},
    user: { ref: 'user:default/ada' },
    isDryRun: false,
    signal: new AbortController().signal,
    task: { id: 'golden-path' },
    step: { id: 'step', name: 'Step' },
  };
}

/**
 * Runs the template's workspace steps (the fetches) into a new workspace, as the task runner
 * does: `if` decides, inputs are rendered with the parameters and checked against the action's
 * schema. Publishing and registering are left out: they need the server.
 */
async function scaffold(parameters: Record<string, unknown>): Promise<{ workspace: string; ran: string[] }> {
  const workspace = path.join(root, `${parameters.name}-${parameters.database}`);
  await mkdir(workspace, { recursive: true });
  const ctx: TemplateContext = { parameters, steps: {} };
  const ran: string[] = [];
  for (const step of template.spec.steps) {
    const action = actions.get(step.action);
    if (!action) continue;
    if (step.if !== undefined && !isTruthy(renderValue(step.if, ctx))) continue;
    const input = renderValue(step.input ?? {}, ctx) as Record<string, unknown>;
    const validate = ajv.compile(action.schema.input);
    assert.ok(validate(input), `step ${step.id}: the rendered input does not fit ${action.id}'s schema: ${ajv.errorsText(validate.errors)}`);
    const logs: string[] = [];
    await action.handler(contextFor(input, workspace, logs));
    ran.push(step.id ?? step.action);
  }
  return { workspace, ran };
}

async function files(dir: string): Promise<string[]> {
  return (await fg('**/*', { cwd: dir, dot: true, onlyFiles: true, ignore: ['node_modules/**', 'dist/**'] })).sort();
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

interface Result {
  code: number | string;
  output: string;
}

/** Runs a command to its end; never rejects, so the caller can print what it said. */
function run(command: string, args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: options.env ?? projectEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let code: number | string = 0;
        if (error) code = error.code ?? `signal ${error.signal ?? 'unknown'}${error.killed ? ' (killed after the timeout)' : ''}`;
        resolve({ code, output: `${stdout}${stderr}${error && typeof error.code !== 'number' ? `\n${error.message}` : ''}` });
      },
    );
  });
}

async function mustSucceed(command: string, args: string[], cwd: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const result = await run(command, args, cwd, options);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} (in ${cwd}) exited with ${result.code}:\n${result.output}`);
  return result.output;
}

async function onPath(command: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${command}`], root)).code === 0;
}

/**
 * The environment of the commands run in a generated project: without the marker of node's test
 * runner (a nested `node --test` would skip its files) and the settings of an npm run of Pave itself.
 */
function projectEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT' && !/^npm_(package|lifecycle)_/i.test(key)));
  return { ...env, ...extra };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts a generated service with PORT set, calls /healthz and /hello like a client, then stops
 * it with SIGTERM, which it must take as a clean shutdown.
 */
async function checkRunningService(command: string, args: string[], cwd: string): Promise<void> {
  const port = await freePort();
  const child = spawn(command, args, { cwd, env: projectEnv({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  const base = `http://127.0.0.1:${port}`;
  try {
    let health: Response | undefined;
    for (const deadline = Date.now() + 20_000; !health && Date.now() < deadline; ) {
      assert.equal(exitCode, undefined, `${command} ${args.join(' ')} exited with ${exitCode} before answering:\n${output}`);
      health = await fetch(`${base}/healthz`).catch(() => undefined);
      if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(health, `${command} ${args.join(' ')} did not answer ${base}/healthz within 20 s:\n${output}`);
    assert.equal(health.status, 200, `GET /healthz answered ${health.status}`);
    assert.deepEqual(await health.json(), { status: 'ok' }, 'GET /healthz answers {"status":"ok"}');
    const hello = await fetch(`${base}/hello?name=Pave`);
    assert.equal(hello.status, 200, `GET /hello answered ${hello.status}`);
    assert.deepEqual(await hello.json(), { message: 'Hello, Pave' }, 'GET /hello?name=Pave greets Pave');
  } finally {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  assert.equal(code, 0, `${command} ${args.join(' ')} did not exit cleanly on SIGTERM (exit ${code}):\n${output}`);
}

/**
 * The syntax errors in Go source, as `line:column` (empty when it parses): the Go toolchain is not
 * on this machine, so Go's grammar (tree-sitter-go, compiled to WebAssembly) parses it instead.
 */
let goParser: Promise<Parser> | undefined;
async function goSyntaxErrors(source: string): Promise<string[]> {
  goParser ??= (async () => {
    await Parser.init();
    const parser = new Parser();
    parser.setLanguage(await Language.load(require.resolve('tree-sitter-go/tree-sitter-go.wasm')));
    return parser;
  })();
  const tree = (await goParser).parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  const errors: string[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing) errors.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1}${node.isMissing ? ` missing ${node.type}` : ''}`);
    else if (node.hasError) for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return errors;
}

interface Case {
  language: 'typescript' | 'go' | 'python' | 'rust';
  database: 'none' | 'postgresql';
  name: string;
  system?: string;
}

// Every language once; each database choice at least once; a name with two hyphens for the
// Python package (order-sync-api → order_sync_api) and one with a system.
const CASES: Case[] = [
  { language: 'typescript', database: 'postgresql', name: 'payments-api', system: 'system:default/checkout' },
  { language: 'go', database: 'none', name: 'stock-levels' },
  { language: 'python', database: 'postgresql', name: 'order-sync-api' },
  { language: 'rust', database: 'none', name: 'price-engine', system: 'system:default/catalog' },
];

function parametersOf(c: Case): Record<string, unknown> {
  return {
    name: c.name,
    description: `Golden path check: "${c.name}" in ${c.language}, with ${c.database}`,
    owner: 'group:default/team-platform',
    ...(c.system ? { system: c.system } : {}),
    language: c.language,
    database: c.database,
    repoUrl: `pave?owner=acme&repo=${c.name}`,
  };
}

describe('the production-microservice golden path', () => {
  it('is a valid Template whose steps use Pave actions and whose form takes the expected values', async () => {
    const result = await validator.validate(template);
    assert.ok('entity' in result, `template.yaml is not a valid entity: ${JSON.stringify('problem' in result ? result.problem : result)}`);
    assert.equal(template.metadata.name, 'production-microservice');
    assert.equal(template.spec.owner, 'group:default/team-platform');
    assert.equal(template.spec.type, 'service');
    const known = new Set([...workspaceActions.map((a) => a.id), ...PAVE_ACTIONS]);
    assert.equal(checkTemplate(template, known), undefined, 'checkTemplate finds no problem in the template');
    const ids = template.spec.steps.map((s) => s.id);
    for (const id of ['publish', 'register']) assert.ok(ids.includes(id), `a step "${id}" exists, since output.links reads steps.${id}.output`);

    for (const c of CASES) assert.doesNotThrow(() => checkValues(template, parametersOf(c)), `the form accepts the values of ${c.name}`);
    for (const name of ['Payments', '-payments', 'payments-', '1payments', 'pay_ments']) {
      assert.throws(() => checkValues(template, { ...parametersOf(CASES[0]), name }), /name/, `the form refuses the name "${name}"`);
    }
    assert.throws(() => checkValues(template, { ...parametersOf(CASES[0]), language: 'cobol' }), /language/, 'the form refuses an unknown language');
  });

  for (const c of CASES) {
    describe(`${c.language} service "${c.name}" with database ${c.database}`, () => {
      let workspace: string;

      before(async () => {
        const result = await scaffold(parametersOf(c));
        workspace = result.workspace;
        assert.deepEqual(result.ran, ['fetch-base', 'fetch-language'], 'both fetch steps ran');
      });

      it('renders every template tag and writes valid YAML and JSON', async () => {
        const written = await files(workspace);
        for (const file of ['catalog-info.yaml', 'mkdocs.yml', 'docs/index.md', 'docs/runbook.md', '.pave/pipeline.yaml', '.gitignore', 'README.md', 'Dockerfile']) {
          assert.ok(written.includes(file), `${file} is written (got ${written.join(', ')})`);
        }
        for (const file of written) {
          assert.ok(!/\$\{\{|\{%|\{#|values\./.test(file), `the path ${file} is fully rendered`);
          const text = await readFile(path.join(workspace, file), 'utf8');
          assert.ok(!text.includes('${{') && !text.includes('{%'), `${file} has no template tag left`);
          if (/\.ya?ml$/.test(file)) {
            for (const doc of yaml.parseAllDocuments(text)) assert.equal(doc.errors.length, 0, `${file} is valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
          }
          if (file.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), `${file} is valid JSON`);
        }

        const mkdocs = yaml.parse(await readFile(path.join(workspace, 'mkdocs.yml'), 'utf8')) as { site_name: string; nav: Record<string, string>[] };
        assert.equal(mkdocs.site_name, c.name);
        for (const page of mkdocs.nav.flatMap((entry) => Object.values(entry))) {
          assert.ok(written.includes(`docs/${page}`), `docs/${page}, listed in mkdocs.yml, exists`);
        }
        const runbook = await readFile(path.join(workspace, 'docs/runbook.md'), 'utf8');
        assert.ok(/^!!! \w+/m.test(runbook), 'the runbook has an admonition');
        assert.equal(runbook.includes('DATABASE_URL'), c.database === 'postgresql', 'the runbook mentions DATABASE_URL only with a database');

        const pipeline = yaml.parse(await readFile(path.join(workspace, '.pave/pipeline.yaml'), 'utf8')) as {
          spec: { image: string; stages: { name: string; steps: { run?: string; uses?: string }[] }[] };
        };
        assert.deepEqual(
          pipeline.spec.stages.map((s) => s.name),
          ['build', 'test', 'scan', 'deploy'],
          'the pipeline has the stages build, test, scan, deploy',
        );
        const commands = pipeline.spec.stages.flatMap((s) => s.steps.map((step) => step.run ?? '')).join('\n');
        const expected = { typescript: 'npm test', go: 'go test ./...', python: 'python -m unittest discover', rust: 'cargo test' }[c.language];
        assert.ok(commands.includes(expected), `the pipeline runs "${expected}" (got ${commands})`);
      });

      it('writes a catalog file whose entities are valid, with the database as a requested Resource', async () => {
        const docs = yaml.parseAllDocuments(await readFile(path.join(workspace, 'catalog-info.yaml'), 'utf8')).map((d) => d.toJSON() as Record<string, any>);
        assert.equal(docs.length, c.database === 'postgresql' ? 2 : 1, 'one document, and one more for a database');
        for (const doc of docs) {
          const result = await validator.validate(doc);
          assert.ok('entity' in result, `${doc.kind} ${doc.metadata?.name} is not valid: ${JSON.stringify('problem' in result ? result.problem : result)}`);
        }
        const [component, resource] = docs;
        assert.equal(component.kind, 'Component');
        assert.equal(component.metadata.name, c.name);
        assert.equal(component.metadata.description, parametersOf(c).description, 'the description survives quotes');
        assert.equal(component.spec.owner, 'group:default/team-platform');
        assert.equal(component.spec.lifecycle, 'experimental');
        assert.equal(component.spec.system, c.system, 'the system is set only when one was chosen');
        assert.equal(component.metadata.annotations['backstage.io/techdocs-ref'], 'dir:.');
        assert.equal(component.metadata.annotations['pave.dev/repository'], `acme/${c.name}`);
        if (c.database === 'postgresql') {
          assert.deepEqual(component.spec.dependsOn, [`resource:${c.name}-db`], 'the Component depends on its database');
          assert.equal(resource.kind, 'Resource');
          assert.equal(resource.metadata.name, `${c.name}-db`);
          assert.equal(resource.spec.type, 'database');
          assert.equal(resource.spec.owner, 'group:default/team-platform');
          assert.equal(resource.metadata.annotations['pave.dev/provisioning'], 'requested');
        } else {
          assert.equal(component.spec.dependsOn, undefined, 'no dependency without a database');
        }
      });

      if (c.language === 'typescript') {
        it('installs, builds and passes its tests with npm, and answers /healthz when started', async () => {
          const env = projectEnv({ npm_config_update_notifier: 'false' });
          await mustSucceed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], workspace, { env, timeoutMs: 150_000 });
          const output = await mustSucceed('npm', ['test'], workspace, { env });
          assert.match(output, /# pass [1-9]/, 'npm test ran tests');
          assert.match(output, /# fail 0/, 'npm test ran tests and none failed');
          const pkg = JSON.parse(await readFile(path.join(workspace, 'package.json'), 'utf8')) as { name: string; dependencies?: object; devDependencies: object };
          assert.equal(pkg.name, c.name);
          assert.equal(pkg.dependencies, undefined, 'the service has no runtime dependencies');
          assert.deepEqual(Object.keys(pkg.devDependencies).sort(), ['@types/node', 'typescript']);
          await checkRunningService(process.execPath, ['dist/main.js'], workspace);
        });
      }

      if (c.language === 'python') {
        it('passes its tests with python3 -m unittest, and answers /healthz when started', async () => {
          assert.ok(await onPath('python3'), 'python3 is on PATH (the Python service needs Python 3.11)');
          const module = c.name.replaceAll('-', '_');
          assert.ok(await exists(path.join(workspace, module, '__main__.py')), `the package folder is named ${module} (a rendered folder name)`);
          const output = await mustSucceed('python3', ['-m', 'unittest', 'discover', '-v'], workspace, { env: projectEnv({ PYTHONDONTWRITEBYTECODE: '1' }) });
          assert.match(output, /Ran [1-9]\d* tests?/, 'unittest ran tests');
          assert.match(output, /\nOK\s*$/, 'every test passed');
          await checkRunningService('python3', ['-m', module], workspace);
        });
      }

      if (c.language === 'rust') {
        it('passes cargo test --offline (the standard library only)', async () => {
          assert.ok(await onPath('cargo'), 'cargo is on PATH');
          const cargoToml = await readFile(path.join(workspace, 'Cargo.toml'), 'utf8');
          assert.match(cargoToml, new RegExp(`^name = "${c.name}"$`, 'm'), 'the package is named after the service');
          assert.match(cargoToml, /^\[dependencies\]\n(\n|\[|$)/m, 'no crates are used');
          const env = projectEnv({ CARGO_TARGET_DIR: path.join(root, 'cargo-target'), CARGO_TERM_COLOR: 'never' });
          const output = await mustSucceed('cargo', ['test', '--offline', '--locked'], workspace, { env, timeoutMs: 170_000 });
          assert.match(output, /test result: ok\. [1-9]\d* passed/, 'cargo test ran tests and they passed');
          assert.doesNotMatch(output, /test result: FAILED/, 'no test failed');
        });
      }

      if (c.language === 'go') {
        it('is a Go 1.22 module of the standard library, with main.go and its httptest test', async (t) => {
          assert.deepEqual(await goSyntaxErrors('package main\n\nfunc main() {\n\tx :=\n}\n'), ['4:6 missing identifier'], 'the Go grammar finds a syntax error (the check can fail)');
          const goMod = await readFile(path.join(workspace, 'go.mod'), 'utf8');
          assert.match(goMod, new RegExp(`^module ${c.name}$`, 'm'), 'the module is named after the service');
          assert.match(goMod, /^go 1\.22$/m, 'the module needs Go 1.22 (method patterns in ServeMux)');
          assert.doesNotMatch(goMod, /^require/m, 'the module requires nothing beyond the standard library');
          for (const file of ['main.go', 'main_test.go']) {
            const source = await readFile(path.join(workspace, file), 'utf8');
            assert.match(source, /^package main$/m, `${file} is in package main`);
            assert.deepEqual(await goSyntaxErrors(source), [], `${file} is valid Go (no syntax errors at these positions)`);
            assert.doesNotMatch(source, /^ +\S/m, `${file} is indented with tabs, as gofmt writes it`);
          }
          const test = await readFile(path.join(workspace, 'main_test.go'), 'utf8');
          assert.match(test, /httptest\.NewServer\(newHandler\(\)\)/, 'the tests start the handler on a free port with httptest');
          for (const route of ['/healthz', '/hello?name=']) assert.ok(test.includes(route), `the tests call ${route}`);
          if (!(await onPath('go'))) {
            t.diagnostic('go is not on PATH: go vet and go test were not run');
            return;
          }
          const env = projectEnv({ GOTOOLCHAIN: 'local' });
          await mustSucceed('go', ['vet', './...'], workspace, { env });
          await mustSucceed('go', ['test', './...'], workspace, { env });
        });
      }
    });
  }
});
