import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEntityRef as backstageParseEntityRef } from '@backstage/catalog-model';
import yaml from 'js-yaml';
import nunjucks from 'nunjucks';
import { isPaveError } from '../core/errors.ts';
import { checkExpressions, isTruthy, renderString, renderValue, type TemplateContext } from './expressions.ts';
import { addScmHosts, listTemplatingExtensions, parseEntityRef, parseRepoUrl, pick, projectSlug, TEMPLATE_FILTERS } from './filters.ts';

const ctx: TemplateContext = {
  parameters: {
    name: 'Payments API',
    count: 3,
    zero: 0,
    enabled: true,
    disabled: false,
    nothing: null,
    owner: { kind: 'Group', name: 'payments' },
    tags: ['java', 'grpc'],
    repoUrl: 'github.com?repo=payments&owner=acme',
    numericString: '1',
  },
  steps: { fetch: { output: { remoteUrl: 'https://github.com/acme/payments', files: 12 } } },
  user: { entity: { metadata: { name: 'ada' } }, ref: 'user:default/ada' },
  secrets: { token: 's3cr3t' },
  each: { key: 'eu', value: { region: 'eu-west-1' } },
  context: { task: { id: 'task-1' } },
};

/** What a render produced, or the code of the error it threw. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (error) {
    return { error: isPaveError(error) ? error.code : (error as Error).message };
  }
}

describe('renderString', () => {
  const cases: { name: string; template: string; expected: unknown }[] = [
    { name: 'a number keeps its type', template: '${{ parameters.count }}', expected: 3 },
    { name: 'zero stays a number', template: '${{ parameters.zero }}', expected: 0 },
    { name: 'true keeps its type', template: '${{ parameters.enabled }}', expected: true },
    { name: 'false keeps its type', template: '${{ parameters.disabled }}', expected: false },
    { name: 'null keeps its type', template: '${{ parameters.nothing }}', expected: null },
    { name: 'an object keeps its type', template: '${{ parameters.owner }}', expected: { kind: 'Group', name: 'payments' } },
    { name: 'an array keeps its type', template: '${{ parameters.tags }}', expected: ['java', 'grpc'] },
    { name: 'a string that looks like a number stays a string', template: '${{ parameters.numericString }}', expected: '1' },
    { name: 'a missing value is undefined', template: '${{ parameters.missing }}', expected: undefined },
    { name: 'a missing nested value is undefined', template: '${{ parameters.missing.deeper }}', expected: undefined },
    { name: 'no spaces inside the tag', template: '${{parameters.count}}', expected: 3 },
    { name: 'an expression evaluates', template: '${{ parameters.count + 2 }}', expected: 5 },
    { name: 'a comparison is a boolean', template: '${{ parameters.count > 2 }}', expected: true },
    { name: 'not negates', template: '${{ not parameters.enabled }}', expected: false },
    { name: 'a ternary', template: '${{ "yes" if parameters.enabled else "no" }}', expected: 'yes' },
    { name: 'text around makes a string', template: 'Hello ${{ parameters.name }}!', expected: 'Hello Payments API!' },
    { name: 'a number inside text', template: 'n=${{ parameters.count }}', expected: 'n=3' },
    { name: 'text after the expression makes a string', template: '${{ parameters.count }} items', expected: '3 items' },
    { name: 'a trailing space makes a string', template: '${{ parameters.count }} ', expected: '3 ' },
    { name: 'a leading space makes a string', template: ' ${{ parameters.count }}', expected: ' 3' },
    { name: 'two expressions make a string', template: '${{ parameters.count }}${{ parameters.count }}', expected: '33' },
    { name: 'a missing value inside text is empty', template: 'x-${{ parameters.missing }}-y', expected: 'x--y' },
    { name: 'only missing values render to undefined', template: '${{ parameters.a }}${{ parameters.b }}', expected: undefined },
    { name: 'an object inside text', template: 'o=${{ parameters.owner }}', expected: 'o=[object Object]' },
    { name: 'an array inside text', template: 't=${{ parameters.tags }}', expected: 't=java,grpc' },
    { name: 'plain text is itself', template: 'just text', expected: 'just text' },
    { name: 'the empty string is undefined', template: '', expected: undefined },
    { name: 'double braces without $ are text', template: '{{ parameters.name }}', expected: '{{ parameters.name }}' },
    { name: 'a block tag renders', template: '{% if parameters.enabled %}on{% else %}off{% endif %}', expected: 'on' },
    { name: 'a lone block whose output is JSON keeps its type', template: '{% if parameters.enabled %}true{% endif %}', expected: true },
    { name: 'a for loop', template: '{% for t in parameters.tags %}[${{ t }}]{% endfor %}', expected: '[java][grpc]' },
    { name: 'a comment renders nothing', template: 'a{# note #}b', expected: 'ab' },
    { name: 'a step output', template: '${{ steps.fetch.output.remoteUrl }}', expected: 'https://github.com/acme/payments' },
    { name: 'a step output number', template: '${{ steps.fetch.output.files }}', expected: 12 },
    { name: 'a step output by key', template: '${{ steps["fetch"].output.files }}', expected: 12 },
    { name: 'a step that did not run', template: '${{ steps.publish.output.remoteUrl }}', expected: undefined },
    { name: 'the user entity', template: '${{ user.entity.metadata.name }}', expected: 'ada' },
    { name: 'the user ref', template: '${{ user.ref }}', expected: 'user:default/ada' },
    { name: 'user entity and ref in text', template: '${{ user.entity.metadata.name }} ${{ user.ref }}', expected: 'ada user:default/ada' },
    { name: 'a secret', template: '${{ secrets.token }}', expected: 's3cr3t' },
    { name: 'each.key', template: '${{ each.key }}', expected: 'eu' },
    { name: 'each.value', template: '${{ each.value }}', expected: { region: 'eu-west-1' } },
    { name: 'each.value field', template: '${{ each.value.region }}', expected: 'eu-west-1' },
    { name: 'the task context', template: '${{ context.task.id }}', expected: 'task-1' },
    { name: '| lower', template: '${{ parameters.name | lower }}', expected: 'payments api' },
    { name: '| upper', template: '${{ parameters.name | upper }}', expected: 'PAYMENTS API' },
    { name: '| replace', template: '${{ parameters.name | replace(" ", "-") | lower }}', expected: 'payments-api' },
    { name: '| default for a missing value', template: '${{ parameters.missing | default("fallback") }}', expected: 'fallback' },
    { name: '| default keeps a present value', template: '${{ parameters.count | default(9) }}', expected: 3 },
    { name: '| dump of an object is its JSON text', template: '${{ parameters.owner | dump }}', expected: '{"kind":"Group","name":"payments"}' },
    { name: '| dump inside text', template: 'tags: ${{ parameters.tags | dump }}', expected: 'tags: ["java","grpc"]' },
    { name: '| join', template: '${{ parameters.tags | join(", ") }}', expected: 'java, grpc' },
    { name: '| length', template: '${{ parameters.tags | length }}', expected: 2 },
    { name: '| first', template: '${{ parameters.tags | first }}', expected: 'java' },
    { name: '| trim', template: '${{ "  x  " | trim }}', expected: 'x' },
    { name: '| int', template: '${{ "42" | int }}', expected: 42 },
    { name: 'no autoescape', template: '${{ "<b>&</b>" }}', expected: '<b>&</b>' },
    { name: 'nunjucks globals exist', template: '${{ range(3) }}', expected: [0, 1, 2] },
    { name: 'process is not in reach', template: '${{ process }}', expected: undefined },
    { name: 'require is not in reach', template: '${{ require }}', expected: undefined },
    { name: 'global is not in reach', template: '${{ global }}', expected: undefined },
    { name: 'globalThis is not in reach', template: '${{ globalThis }}', expected: undefined },
    { name: 'a syntax error leaves the string as written', template: '${{ parameters.name | }}', expected: '${{ parameters.name | }}' },
    { name: 'an unknown filter leaves the string as written', template: '${{ parameters.name | nope }}', expected: '${{ parameters.name | nope }}' },
    { name: 'a failing filter leaves the string as written', template: '${{ "nohost" | parseRepoUrl }}', expected: '${{ "nohost" | parseRepoUrl }}' },
    { name: 'a filter with no value leaves the string as written', template: "${{ parameters.owner | pick('nope') }}", expected: "${{ parameters.owner | pick('nope') }}" },
    // The dump wrapping only reaches one-line tags; a multi-line one keeps its type only if its text is JSON.
    { name: 'a multi-line expression whose text is JSON', template: '${{ parameters.count\n}}', expected: 3 },
    { name: 'a multi-line expression whose text is not JSON', template: '${{ parameters.name\n}}', expected: 'Payments API' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(renderString(c.template, ctx), c.expected);
    });
  }

  test('the context crosses as JSON: functions in it are gone', () => {
    const withFunction = { parameters: { fn: () => 'called', date: new Date('2024-01-02T03:04:05Z') } };
    assert.equal(renderString('${{ parameters.fn }}', withFunction), undefined);
    assert.equal(renderString('${{ parameters.date }}', withFunction), '2024-01-02T03:04:05.000Z');
  });

  test('a string kept as written is reported to onError', () => {
    const errors: string[] = [];
    const result = renderString('${{ parameters.name | nope }}', ctx, { onError: (e, t) => errors.push(`${t}: ${e.message}`) });
    assert.equal(result, '${{ parameters.name | nope }}');
    assert.equal(errors.length, 1);
    assert.match(errors[0], /filter not found: nope/);
  });
});

describe('renderValue', () => {
  test('walks objects and arrays, renders strings only, keeps keys and other values', () => {
    const input = {
      name: '${{ parameters.name }}',
      count: '${{ parameters.count }}',
      literal: 7,
      flag: false,
      none: null,
      nested: { owner: '${{ parameters.owner.name }}', list: ['${{ parameters.tags }}', 'x-${{ parameters.count }}', 1] },
      '${{ parameters.name }}': 'keys are not rendered',
    };
    assert.deepEqual(renderValue(input, ctx), {
      name: 'Payments API',
      count: 3,
      literal: 7,
      flag: false,
      none: null,
      nested: { owner: 'payments', list: [['java', 'grpc'], 'x-3', 1] },
      '${{ parameters.name }}': 'keys are not rendered',
    });
  });

  test('a property that renders to undefined is dropped, an array element leaves a hole', () => {
    const rendered = renderValue({ a: '${{ parameters.missing }}', b: '', c: ['${{ parameters.missing }}', 'kept'] }, ctx) as {
      c: unknown[];
    };
    assert.deepEqual(Object.keys(rendered), ['c']);
    assert.equal(rendered.c.length, 2);
    assert.ok(!(0 in rendered.c), 'the element that rendered to undefined is a hole, as JSON.parse leaves it');
    assert.equal(rendered.c[1], 'kept');
  });

  test('scalars at the top', () => {
    const cases: [unknown, unknown][] = [
      ['${{ parameters.enabled }}', true],
      [true, true],
      [5, 5],
      [null, null],
      [undefined, undefined],
    ];
    for (const [value, expected] of cases) assert.deepEqual(renderValue(value, ctx), expected, JSON.stringify(value));
  });

  test('does not change its input', () => {
    const input = { a: ['${{ parameters.count }}'] };
    renderValue(input, ctx);
    assert.deepEqual(input, { a: ['${{ parameters.count }}'] });
  });

  test('an each list of secrets, rendered before iterating', () => {
    assert.deepEqual(renderValue(['${{ secrets.token }}', { t: '${{ secrets.token }}' }], ctx), ['s3cr3t', { t: 's3cr3t' }]);
  });
});

describe('isTruthy', () => {
  const cases: [unknown, boolean][] = [
    [true, true],
    [false, false],
    ['true', true],
    ['false', true],
    ['', false],
    ['0', true],
    [0, false],
    [1, true],
    [-1, true],
    [NaN, false],
    [null, false],
    [undefined, false],
    [[], false],
    [[0], true],
    [{}, true],
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value) ?? String(value)} is ${expected ? 'truthy' : 'falsy'}`, () => {
      assert.equal(isTruthy(value), expected);
    });
  }

  test('if: as the runner evaluates it', () => {
    const skip = (cond: unknown) => !isTruthy(renderValue(cond, ctx));
    assert.equal(skip('${{ parameters.disabled }}'), true);
    assert.equal(skip('${{ parameters.enabled }}'), false);
    assert.equal(skip('${{ not parameters.enabled }}'), true);
    assert.equal(skip('${{ parameters.tags | length > 5 }}'), true);
    assert.equal(skip('${{ parameters.missing }}'), true);
    assert.equal(skip('false'), false, "the text 'false' is a non-empty string, so it runs, as in Backstage");
  });
});

describe('checkExpressions', () => {
  const cases: {
    name: string;
    value: unknown;
    expected: { code: string; path: string; line: number; column: number; expression: string }[];
  }[] = [
    {
      name: 'a dangling pipe',
      value: { values: { name: '${{ parameters.name | }}' } },
      expected: [{ code: 'TEMPLATE_EXPRESSION_INVALID', path: 'spec.steps[2].input.values.name', line: 1, column: 23, expression: '${{ parameters.name | }}' }],
    },
    {
      name: 'a double dot',
      value: { values: { name: 'Hi ${{ parameters..x }}' } },
      expected: [{ code: 'TEMPLATE_EXPRESSION_INVALID', path: 'spec.steps[2].input.values.name', line: 1, column: 19, expression: '${{ parameters..x }}' }],
    },
    {
      name: 'an unclosed tag',
      value: { values: { name: '${{ foo' } },
      expected: [{ code: 'TEMPLATE_EXPRESSION_INVALID', path: 'spec.steps[2].input.values.name', line: 1, column: 8, expression: '${{ foo' }],
    },
    {
      name: 'an error on a later line',
      value: { script: ['echo one', 'line one\n  ${{ parameters.a | }}'] },
      expected: [{ code: 'TEMPLATE_EXPRESSION_INVALID', path: 'spec.steps[2].input.script[1]', line: 2, column: 22, expression: '${{ parameters.a | }}' }],
    },
    {
      name: 'an unknown filter',
      value: { 'odd key': '${{ parameters.name | lowercase }}' },
      expected: [{ code: 'TEMPLATE_EXPRESSION_INVALID', path: 'spec.steps[2].input["odd key"]', line: 1, column: 23, expression: '${{ parameters.name | lowercase }}' }],
    },
    {
      name: 'a forbidden lookup',
      value: { x: 'a ${{ range.constructor("return process")() }}' },
      expected: [
        { code: 'TEMPLATE_EXPRESSION_FORBIDDEN', path: 'spec.steps[2].input.x', line: 1, column: 13, expression: '${{ range.constructor("return process")() }}' },
      ],
    },
    {
      name: 'a broken block tag without ${{ is left alone, as Backstage leaves it as text',
      value: { x: 'Liquid: {% include foo.html' },
      expected: [],
    },
    {
      name: 'a forbidden lookup in a block tag',
      value: { x: '{% set f = range.constructor("x") %}' },
      expected: [{ code: 'TEMPLATE_EXPRESSION_FORBIDDEN', path: 'spec.steps[2].input.x', line: 1, column: 18, expression: '{% set f = range.constructor("x") %}' }],
    },
    { name: 'valid expressions', value: { a: '${{ parameters.name | lower }}', b: ['${{ steps.x.output.y }}', 3, null], c: true }, expected: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const problems = checkExpressions(c.value, 'spec.steps[2].input');
      assert.deepEqual(
        problems.map(({ code, path, line, column, expression }) => ({ code, path, line, column, expression })),
        c.expected,
      );
      for (const p of problems) assert.ok(p.message.startsWith(`${p.path}: ${p.expression}`), `the message names the path and expression: ${p.message}`);
    });
  }

  test('a string at the top takes the base path', () => {
    const [problem] = checkExpressions('${{ x | }}', 'spec.steps[0].if');
    assert.equal(problem.path, 'spec.steps[0].if');
    assert.match(problem.message, /expected symbol, got variable-end/);
  });
});

describe('forbidden lookups', () => {
  // Each one runs code when nunjucks renders it unguarded (checked below), Pave refuses it.
  const payloads = [
    '${{ range.constructor("return 6*7")() }}',
    '${{ cycler.constructor("return 6*7")() }}',
    '${{ joiner.constructor("return 6*7")() }}',
    '${{ "".constructor.constructor("return 6*7")() }}',
    '${{ [].constructor.constructor("return 6*7")() }}',
    '${{ (0).constructor.constructor("return 6*7")() }}',
    '${{ parameters.constructor.constructor("return 6*7")() }}',
    '${{ constructor.constructor("return 6*7")() }}',
    '${{ parameters.__proto__.constructor.constructor("return 6*7")() }}',
    '${{ parameters["constructor"]["constructor"]("return 6*7")() }}',
    '${{ parameters["con" ~ "structor"]["con" + "structor"]("return 6*7")() }}',
    '${{ parameters[parameters.k][parameters.k]("return 6*7")() }}',
    '${{ parameters[["constructor"]][["constructor"]]("return 6*7")() }}',
    '{% set f = range.constructor("return 6*7") %}${{ f() }}',
    'prefix ${{ range.constructor("return 6*7")() }} suffix',
  ];
  const unguarded = new nunjucks.Environment([], { autoescape: false, tags: { variableStart: '${{', variableEnd: '}}' } });
  const payloadCtx = { parameters: { k: 'constructor' } };

  for (const payload of payloads) {
    test(payload, () => {
      assert.match(unguarded.renderString(payload, payloadCtx), /42/, 'the payload runs code in plain nunjucks');
      assert.deepEqual(outcome(() => renderString(payload, payloadCtx)), { error: 'TEMPLATE_EXPRESSION_FORBIDDEN' });
      assert.deepEqual(outcome(() => renderValue({ deep: [payload] }, payloadCtx)), { error: 'TEMPLATE_EXPRESSION_FORBIDDEN' });
    });
  }

  const alsoRefused = [
    '${{ range.prototype }}',
    '${{ parameters.__lookupGetter__("__proto__") }}',
    '${{ parameters.__defineGetter__("x", range) }}',
    '${{ {"__proto__": 1} }}',
    "${{ parameters | pick('constructor.constructor') }}",
    '${{ parameters | pick(parameters.p) }}',
    '${{ parameters | pick(["constructor"]) }}',
  ];
  for (const template of alsoRefused) {
    test(template, () => {
      assert.deepEqual(outcome(() => renderString(template, { parameters: { p: 'constructor' } })), { error: 'TEMPLATE_EXPRESSION_FORBIDDEN' });
    });
  }

  test('static payloads are reported by checkExpressions with a position', () => {
    const problems = checkExpressions({ a: payloads[0], b: payloads[6] }, 'spec.steps[0].input');
    assert.deepEqual(
      problems.map((p) => [p.code, p.path, p.line, p.column]),
      [
        ['TEMPLATE_EXPRESSION_FORBIDDEN', 'spec.steps[0].input.a', 1, 11],
        ['TEMPLATE_EXPRESSION_FORBIDDEN', 'spec.steps[0].input.b', 1, 16],
        ['TEMPLATE_EXPRESSION_FORBIDDEN', 'spec.steps[0].input.b', 1, 28],
      ],
    );
  });

  test('the error is a PaveError with the path and key in its details', () => {
    try {
      renderValue({ steps: ['${{ range.constructor("x") }}'] }, ctx);
      assert.fail('a forbidden lookup must throw');
    } catch (error) {
      assert.ok(isPaveError(error), 'a PaveError');
      assert.equal(error.status, 400);
      const problems = error.details.problems as { path: string }[];
      assert.equal(problems[0].path, 'steps[0]');
      assert.match(error.message, /looks up "constructor"/);
    }
  });

  test('nothing ran: a payload with a side effect leaves no trace', () => {
    const marker = '__paveTemplateEscape';
    assert.deepEqual(outcome(() => renderString(`\${{ range.constructor("globalThis.${marker} = 1")() }}`, ctx)), {
      error: 'TEMPLATE_EXPRESSION_FORBIDDEN',
    });
    assert.deepEqual(outcome(() => renderString(`\${{ parameters[parameters.k][parameters.k]("globalThis.${marker} = 1")() }}`, payloadCtx)), {
      error: 'TEMPLATE_EXPRESSION_FORBIDDEN',
    });
    assert.equal((globalThis as Record<string, unknown>)[marker], undefined);
  });

  test('names that merely contain a forbidden word are fine', () => {
    assert.equal(renderString('${{ parameters.constructorName }}', { parameters: { constructorName: 'ok' } }), 'ok');
    assert.deepEqual(checkExpressions('${{ parameters.prototypeUrl }}', 'x'), []);
  });
});

describe('parseRepoUrl', () => {
  const custom = { 'gitea.example.com': 'gitea', 'gerrit.example.com': 'gerrit', 'bitbucket.example.com': 'bitbucketServer', 'ghe.example.com': 'github' };
  const cases: { input: string; expected: Record<string, unknown> | RegExp }[] = [
    { input: 'github.com?repo=backstage&owner=backstage', expected: { host: 'github.com', owner: 'backstage', repo: 'backstage' } },
    { input: 'github.com?repo=r', expected: /^Invalid repo URL passed to publisher: https:\/\/github\.com\/\?repo=r, missing owner$/ },
    { input: 'github.com?owner=o', expected: /missing repo$/ },
    { input: '', expected: /^Invalid repo URL passed to publisher, got , TypeError/ },
    { input: ' ', expected: /^Invalid repo URL passed to publisher, got  , TypeError/ },
    { input: 'example.com?repo=r&owner=o', expected: /^No matching integration configuration for host example\.com, please check your integrations config$/ },
    { input: 'gitlab.com?owner=group%2Fsub&repo=r', expected: { host: 'gitlab.com', owner: 'group/sub', repo: 'r' } },
    { input: 'gitlab.com?project=123456', expected: { host: 'gitlab.com', project: '123456' } },
    { input: 'gitlab.com?repo=r', expected: /missing owner$/ },
    { input: 'bitbucket.org?workspace=w&project=p&repo=r', expected: { host: 'bitbucket.org', workspace: 'w', project: 'p', repo: 'r' } },
    { input: 'bitbucket.org?project=p&repo=r', expected: /missing workspace$/ },
    { input: 'dev.azure.com?organization=org&project=p&repo=r', expected: { host: 'dev.azure.com', organization: 'org', project: 'p', repo: 'r' } },
    { input: 'dev.azure.com?organization=org&repo=r', expected: /missing project$/ },
    { input: 'gitea.example.com?repo=r', expected: { host: 'gitea.example.com', repo: 'r' } },
    { input: 'gitea.example.com', expected: /missing repo$/ },
    { input: 'gerrit.example.com?repo=r&owner=o', expected: { host: 'gerrit.example.com', owner: 'o', repo: 'r' } },
    { input: 'bitbucket.example.com?repo=r', expected: /missing project$/ },
    { input: 'ghe.example.com?repo=%2F%2Fr%2F%2F&owner=%2Fo%2F', expected: { host: 'ghe.example.com', owner: 'o', repo: 'r' } },
    { input: 'GitHub.com?repo=r&owner=o', expected: { host: 'github.com', owner: 'o', repo: 'r' } },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.input), () => {
      const hosts = { 'github.com': 'github', 'gitlab.com': 'gitlab', 'bitbucket.org': 'bitbucketCloud', 'dev.azure.com': 'azure', ...custom };
      if (c.expected instanceof RegExp) {
        assert.throws(() => parseRepoUrl(c.input, hosts), { message: c.expected });
      } else {
        const result = JSON.parse(JSON.stringify(parseRepoUrl(c.input, hosts))) as unknown;
        assert.deepEqual(result, c.expected);
      }
    });
  }

  test('hosts configured under integrations in pave.yaml are known to the parseRepoUrl and projectSlug filters', () => {
    assert.throws(() => TEMPLATE_FILTERS.parseRepoUrl('code.acme.test?owner=o&repo=r'), /No matching integration configuration for host code\.acme\.test/);
    addScmHosts({ 'code.acme.test': 'github' });
    assert.equal((TEMPLATE_FILTERS.parseRepoUrl('code.acme.test?owner=o&repo=r') as { owner: string }).owner, 'o');
    assert.equal(TEMPLATE_FILTERS.projectSlug('code.acme.test?owner=o&repo=r'), 'o/r');
  });

  test('the default hosts are those of an empty Backstage integrations config', () => {
    assert.equal(parseRepoUrl('gitlab.com?owner=o&repo=r').host, 'gitlab.com');
    assert.throws(() => parseRepoUrl('gitea.example.com?repo=r'), /No matching integration configuration for host gitea\.example\.com/);
  });

  test('errors are PaveErrors that name the value', () => {
    try {
      parseRepoUrl('github.com?repo=r');
      assert.fail('must throw');
    } catch (error) {
      assert.ok(isPaveError(error), 'a PaveError');
      assert.equal(error.code, 'REPO_URL_INVALID');
      assert.equal(error.details.repoUrl, 'github.com?repo=r');
    }
  });

  test('projectSlug is owner/repo', () => {
    assert.equal(projectSlug('github.com?repo=payments&owner=acme'), 'acme/payments');
    assert.equal(renderString('${{ parameters.repoUrl | projectSlug }}', ctx), 'acme/payments');
  });

  test('the filter passes back JSON: absent parts are not keys', () => {
    assert.deepEqual(Object.keys(renderString('${{ parameters.repoUrl | parseRepoUrl }}', ctx) as object), ['host', 'owner', 'repo']);
  });
});

describe('parseEntityRef', () => {
  const cases: [unknown, unknown?][] = [
    ['group:techdocs'],
    ['techdocs', { defaultKind: 'group', defaultNamespace: 'another-namespace' }],
    ['Group:NS/Name'],
    ['techdocs'],
    [''],
    ['a:b:c'],
    ['group:/x'],
    ['group:ns/'],
    ['user:default/a/b'],
    ['a/b:c', { defaultKind: 'k' }],
    ['user:ben', { defaultNamespace: '' }],
    [{ kind: 'A', name: 'b' }],
    [{ name: 'b' }, { defaultKind: 'x' }],
    [{ name: 'b' }],
    [{ kind: 'k', name: '' }],
    ['user:default/ben', null],
    ['user:default/ben', 0],
    ['user:default/ben', []],
  ];
  for (const [ref, context] of cases) {
    test(`${JSON.stringify(ref)} with ${JSON.stringify(context)} matches @backstage/catalog-model`, () => {
      const ours = outcome(() => parseEntityRef(ref, context as never));
      const theirs = outcome(() => backstageParseEntityRef(ref as never, context as never));
      assert.deepEqual(ours, theirs);
    });
  }

  const filterCases: [string, string, unknown][] = [
    ['component:default/ben', '${{ parameters.e | parseEntityRef }}', { kind: 'component', namespace: 'default', name: 'ben' }],
    ['ben', '${{ parameters.e | parseEntityRef({ defaultKind:"user" }) }}', { kind: 'user', namespace: 'default', name: 'ben' }],
    ['user:ben', '${{ parameters.e | parseEntityRef({ defaultNamespace:"namespace-b" }) }}', { kind: 'user', namespace: 'namespace-b', name: 'ben' }],
    ['user:default/ben', '${{ parameters.e | parseEntityRef(undefined) }}', { kind: 'user', namespace: 'default', name: 'ben' }],
    ['user:default/ben', '${{ parameters.e | parseEntityRef(None) }}', { kind: 'user', namespace: 'default', name: 'ben' }],
    ['user:default/ben', '${{ parameters.e | parseEntityRef(0) }}', { kind: 'user', namespace: 'default', name: 'ben' }],
    ['user:default/ben', '${{ parameters.e | parseEntityRef([]) }}', { kind: 'user', namespace: 'default', name: 'ben' }],
    ['ben', '${{ parameters.e | parseEntityRef({ defaultNamespace:"namespace-b" }) }}', '${{ parameters.e | parseEntityRef({ defaultNamespace:"namespace-b" }) }}'],
    ['component:default/ben', '${{ parameters.e | parseEntityRef | pick("kind") }}', 'component'],
  ];
  for (const [e, template, expected] of filterCases) {
    test(`${template} of ${e}`, () => {
      assert.deepEqual(renderString(template, { parameters: { e } }), expected);
    });
  }
});

describe('pick', () => {
  const object = { a: { b: [{ c: 1 }, { 'd.e': 2 }] }, 'x.y': 3, '': { z: 4 } };
  const cases: [unknown, unknown][] = [
    ['a', object.a],
    ['a.b[0].c', 1],
    ['a.b.0.c', 1],
    ['a.b[1]["d.e"]', 2],
    ["a.b[1]['d.e']", 2],
    ['x.y', 3],
    ['.z', 4],
    ['missing.deeper', undefined],
    [['a', 'b', '0', 'c'], 1],
  ];
  for (const [path, expected] of cases) {
    test(`pick(${JSON.stringify(path)})`, () => {
      assert.deepEqual(pick(object, path), expected);
    });
  }

  test('refuses forbidden keys in the path', () => {
    for (const path of ['constructor', 'a.constructor', 'a["__proto__"]', ['prototype']]) {
      assert.deepEqual(outcome(() => pick(object, path)), { error: 'TEMPLATE_EXPRESSION_FORBIDDEN' }, JSON.stringify(path));
    }
  });

  test('deep picks in templates', () => {
    const parameters = { entity: { something: { deeply: { nested: 'component' } } } };
    assert.equal(renderString('${{ parameters.entity | pick("something.deeply.nested") }}', { parameters }), 'component');
  });
});

describe('listTemplatingExtensions', () => {
  const extensions = listTemplatingExtensions();

  test('has the shape of Backstage GET /v2/templating-extensions', () => {
    assert.deepEqual(Object.keys(extensions), ['filters', 'globals']);
    assert.deepEqual(extensions.globals, { functions: {}, values: {} });
    assert.deepEqual(Object.keys(extensions.filters).sort(), Object.keys(TEMPLATE_FILTERS).sort());
    for (const [name, info] of Object.entries(extensions.filters)) {
      assert.ok(info.description.length > 0, `${name} has a description`);
      assert.ok(info.examples.length > 0, `${name} has an example`);
      const schema = info.schema as { input?: object; arguments?: object[]; output?: object };
      assert.ok(schema.input && schema.output, `${name} has input and output schemas`);
    }
  });

  test('is a copy: changing it changes nothing', () => {
    extensions.filters.pick.description = 'changed';
    assert.notEqual(listTemplatingExtensions().filters.pick.description, 'changed');
  });

  const examples = Object.entries(listTemplatingExtensions().filters).flatMap(([name, info]) =>
    info.examples.map((example, i) => ({ name, i, ...example })),
  );
  for (const example of examples) {
    test(`${example.name} example ${example.i + 1}${example.description ? ` (${example.description})` : ''} runs as documented`, () => {
      const [step] = yaml.load(example.example) as { action: string; input: { message: string } }[];
      assert.equal(step.action, 'debug:log');
      const expression = step.input.message;
      const parameter = /parameters\.(\w+)/.exec(expression)?.[1];
      assert.ok(parameter, `the example reads a parameter: ${expression}`);
      const note = (label: string) => new RegExp(`\\*\\*${label}\\*\\*: \`(.*)\``).exec(example.notes ?? '')?.[1];
      const input = note('Input');
      const output = note('Output');
      assert.ok(input !== undefined && output !== undefined, `the notes give Input and Output: ${example.notes}`);
      assert.deepEqual(checkExpressions(example.example, 'example'), []);
      assert.deepEqual(renderString(expression, { parameters: { [parameter]: input } }), JSON.parse(output));
    });
  }
});
