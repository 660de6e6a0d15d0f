import nunjucks from 'nunjucks';
import { badInput, PaveError } from '../core/errors.ts';
import { TEMPLATE_FILTERS, UNSAFE_KEYS } from './filters.ts';
import { guardedRuntime } from './sandbox.ts';

/**
 * The `${{ … }}` expressions of Backstage `scaffolder.backstage.io/v1beta3` templates, evaluated as
 * Backstage's scaffolder does: nunjucks with `${{`/`}}` as variable tags (block `{% %}` and comment
 * `{# #}` tags keep their defaults), no autoescape, the values crossing into the templater as JSON,
 * and Backstage's filters. Nunjucks is not a sandbox, so lookups that lead to JavaScript internals
 * are refused twice: in the syntax tree before anything runs, and at run time for computed keys.
 */

export interface TemplateContext {
  parameters: Record<string, unknown>;
  steps?: Record<string, { output: Record<string, unknown> }>;
  user?: { entity?: unknown; ref?: string };
  secrets?: Record<string, string>;
  each?: { key?: string | number; value: unknown };
  context?: Record<string, unknown>;
}

export interface ExpressionProblem {
  code: 'TEMPLATE_EXPRESSION_INVALID' | 'TEMPLATE_EXPRESSION_FORBIDDEN';
  message: string;
  /** JSON path of the string in the checked value, e.g. `spec.steps[2].input.values.name`. */
  path: string;
  /** 1-based, within the string. */
  line: number;
  column: number;
  /** The `${{ … }}` or `{% … %}` tag the problem is in (the whole string when none encloses it). */
  expression: string;
}

export interface RenderOptions {
  /**
   * Called when a string fails to render. Backstage then keeps the string as it was written, and
   * so does Pave; this is where a caller logs why.
   */
  onError?: (error: Error, template: string) => void;
}

const FORBIDDEN = 'TEMPLATE_EXPRESSION_FORBIDDEN';
const INVALID = 'TEMPLATE_EXPRESSION_INVALID';

const TAGS = { variableStart: '${{', variableEnd: '}}' };
const NUNJUCKS_OPTIONS = { autoescape: false, tags: TAGS };

/** The parts of nunjucks' syntax tree this module reads. */
interface SyntaxNode {
  typename: string;
  lineno: number;
  colno: number;
  fields: string[];
  value?: unknown;
  children?: SyntaxNode[];
  [field: string]: unknown;
}

type RootRender = (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: (err: unknown, res: unknown) => void) => void;

/** Nunjucks' parser and compiler: public in the package, untyped in @types/nunjucks. */
const internals = nunjucks as unknown as {
  parser: { parse(src: string, extensions: unknown[], opts: object): SyntaxNode };
  compiler: { compile(src: string, asyncFilters: string[], extensions: unknown[], name: string | undefined, opts: object): string };
};

/**
 * Filters run on the far side of a JSON boundary in Backstage (an isolate): they receive copies of
 * their arguments and what they return is passed back as JSON, so a filter returning `undefined`
 * (a `pick` of a missing property) fails the expression, and no function ever comes back.
 */
function acrossBoundary(name: string, filter: (...args: unknown[]) => unknown) {
  return (...args: unknown[]) => {
    let result: unknown;
    try {
      result = filter(...structuredClone(args));
    } catch (error) {
      // Nunjucks wraps what a filter throws; a refusal (`pick` of `constructor`) must stay one.
      if (isForbidden(error)) refusedInRender?.push(error as PaveError);
      throw error;
    }
    const json = JSON.stringify(result);
    if (json === undefined) throw new Error(`filter ${name} returned no JSON value`);
    return JSON.parse(json) as unknown;
  };
}

/** Refusals of the render under way (rendering is synchronous, one at a time). */
let refusedInRender: PaveError[] | undefined;

const env = new nunjucks.Environment([], NUNJUCKS_OPTIONS);
for (const [name, filter] of Object.entries(TEMPLATE_FILTERS)) env.addFilter(name, acrossBoundary(name, filter));

function hasFilter(name: string): boolean {
  try {
    env.getFilter(name);
    return true;
  } catch {
    return false;
  }
}

function refusedAtRunTime(template: string, key: string): PaveError {
  return badInput(
    FORBIDDEN,
    `Template expression ${template} looked up "${key}" while rendering; templates may not use ${[...UNSAFE_KEYS].join(', ')}, which reach JavaScript internals`,
    { expression: template, key },
  );
}

/**
 * Renders with nunjucks under the guarded runtime; throws what nunjucks throws. `written` is the
 * string as the template has it, for messages (`template` may be its `dump` form).
 */
function renderText(template: string, values: object, written: string): string {
  const refused: PaveError[] = [];
  const compiled = new nunjucks.Template(template, env, undefined, true);
  const inner = compiled as unknown as { rootRenderFunc: RootRender };
  const root = inner.rootRenderFunc;
  const runtime = guardedRuntime((key) => {
    const error = refusedAtRunTime(written, key);
    refused.push(error);
    return error;
  });
  inner.rootRenderFunc = (e, context, frame, _runtime, cb) => root(e, context, frame, runtime, cb);
  let text: string;
  refusedInRender = refused;
  try {
    text = compiled.render(values);
  } catch (error) {
    if (refused.length > 0) throw refused[0];
    throw error;
  } finally {
    refusedInRender = undefined;
  }
  if (refused.length > 0) throw refused[0];
  return text;
}

/** Only these start anything but text for nunjucks; a string without them renders as itself. */
function hasTemplateSyntax(text: string): boolean {
  return text.includes('${{') || text.includes('{%') || text.includes('{#');
}

/**
 * Backstage keeps a value's type when the string is one template node and does not begin with
 * text: exactly `${{ expr }}` (no text before or after), or a single `{% … %}` block.
 */
function isSingleExpression(template: string): boolean {
  let root: SyntaxNode;
  try {
    root = internals.parser.parse(template, [], NUNJUCKS_OPTIONS);
  } catch {
    return false;
  }
  const children = root.children ?? [];
  return children.length === 1 && children[0].children?.[0]?.typename !== 'TemplateData';
}

/** Each one-line `${{ … }}` (from its first `${{` to its last `}}`) is rendered through `dump`. */
const EXPRESSION_ON_A_LINE = /\$\{\{(.+)\}\}/g;

function isForbidden(error: unknown): boolean {
  return error instanceof PaveError && error.code === FORBIDDEN;
}

function renderChecked(template: string, values: object, options: RenderOptions): unknown {
  if (!hasTemplateSyntax(template)) return template === '' ? undefined : template;
  if (isSingleExpression(template)) {
    const dumped = template.replace(EXPRESSION_ON_A_LINE, '${{ ( $1 ) | dump }}');
    try {
      refuseForbidden(dumped, '');
      const json = renderText(dumped, values, template);
      // `dump` of undefined prints nothing: the expression has no value.
      return json === '' ? undefined : (JSON.parse(json) as unknown);
    } catch (error) {
      if (isForbidden(error)) throw error;
      // Not JSON after all (a block, text after the expression, a failed filter): render as text.
    }
  }
  try {
    const text = renderText(template, values, template);
    return text === '' ? undefined : text;
  } catch (error) {
    if (isForbidden(error)) throw error;
    options.onError?.(error instanceof Error ? error : new Error(String(error)), template);
    return template;
  }
}

/** The values as Backstage's templater receives them: a JSON copy, so no function or prototype rides along. */
function templateValues(ctx: TemplateContext): object {
  return JSON.parse(JSON.stringify(ctx)) as object;
}

function forbiddenError(problems: ExpressionProblem[]): PaveError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return badInput(FORBIDDEN, `${problems[0].message}${more}`, { problems });
}

function refuseForbidden(value: unknown, basePath: string): void {
  const forbidden = checkExpressions(value, basePath).filter((p) => p.code === FORBIDDEN);
  if (forbidden.length > 0) throw forbiddenError(forbidden);
}

/**
 * Renders one string. A string that is a single expression keeps the type of its value (number,
 * boolean, object, array, null; `undefined` when the value is missing); any other string renders
 * to a string, except that an empty result is `undefined`, as in Backstage. A string that fails to
 * render (syntax, unknown filter, a filter that throws) is returned as written. A forbidden lookup
 * throws `TEMPLATE_EXPRESSION_FORBIDDEN`.
 */
export function renderString(template: string, ctx: TemplateContext, options: RenderOptions = {}): unknown {
  refuseForbidden(template, '');
  return renderChecked(template, templateValues(ctx), options);
}

/**
 * Renders every string in a value (a step's `input`, `each`, `if`, the template's `output`), deep,
 * as Backstage does: the value is taken as JSON, object keys are not rendered, a property whose
 * string renders to `undefined` is dropped, and an array element that does leaves a hole.
 */
export function renderValue(value: unknown, ctx: TemplateContext, options: RenderOptions = {}): unknown {
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  refuseForbidden(value, '');
  const values = templateValues(ctx);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return renderChecked(node, values, options);
    if (Array.isArray(node)) {
      const out: unknown[] = new Array(node.length);
      node.forEach((item, i) => {
        const rendered = walk(item);
        if (rendered !== undefined) out[i] = rendered;
      });
      return out;
    }
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node)
          .map(([key, item]) => [key, walk(item)] as const)
          .filter(([, rendered]) => rendered !== undefined),
      );
    }
    return node;
  };
  return walk(JSON.parse(json));
}

/**
 * Backstage's truthiness for `if:` (after rendering): everything JavaScript calls truthy except an
 * empty array. The string `'false'` is truthy: `if: false` and `if: ${{ false }}` are what skip.
 */
export function isTruthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** `[start, end)` of each `${{ … }}` and `{% … %}` tag; an unclosed one runs to the end. */
function tagSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  const opening = /\$\{\{|\{%/g;
  for (let m = opening.exec(text); m; m = opening.exec(text)) {
    const close = m[0] === '${{' ? '}}' : '%}';
    const end = text.indexOf(close, m.index + m[0].length);
    const stop = end === -1 ? text.length : end + close.length;
    spans.push([m.index, stop]);
    opening.lastIndex = stop;
  }
  return spans;
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) break;
    offset = next + 1;
  }
  return offset + column - 1;
}

function expressionAt(text: string, line: number, column: number): string {
  const offset = offsetOf(text, line, column);
  const span = tagSpans(text).find(([start, stop]) => start <= offset && offset < stop);
  return span ? text.slice(span[0], span[1]) : text;
}

function endOf(text: string): { line: number; column: number } {
  const lines = text.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function visit(node: unknown, fn: (node: SyntaxNode) => void): void {
  if (node === null || typeof node !== 'object' || !('typename' in node)) return;
  const syntax = node as SyntaxNode;
  fn(syntax);
  for (const field of syntax.fields) {
    const child = syntax[field];
    if (Array.isArray(child)) child.forEach((c) => visit(c, fn));
    else visit(child, fn);
  }
}

/** The string a key expression always evaluates to, when it is made of string literals. */
function constantKey(node: SyntaxNode): string | undefined {
  if (node.typename === 'Literal') return typeof node.value === 'string' || typeof node.value === 'number' ? String(node.value) : undefined;
  if (node.typename === 'Add' || node.typename === 'Concat') {
    const left = constantKey(node.left as SyntaxNode);
    const right = constantKey(node.right as SyntaxNode);
    const strings = node.typename === 'Concat' || (typeof (node.left as SyntaxNode).value === 'string' && typeof (node.right as SyntaxNode).value === 'string');
    return left !== undefined && right !== undefined && strings ? left + right : undefined;
  }
  return undefined;
}

/** Lookups in one parsed string that lead to JavaScript internals, and filters that do not exist. */
function lookupProblems(root: SyntaxNode): { code: ExpressionProblem['code']; node: SyntaxNode; detail: string }[] {
  const found: { code: ExpressionProblem['code']; node: SyntaxNode; detail: string }[] = [];
  const forbid = (node: SyntaxNode, key: string | undefined) => {
    if (key !== undefined && UNSAFE_KEYS.has(key)) found.push({ code: FORBIDDEN, node, detail: key });
  };
  visit(root, (node) => {
    switch (node.typename) {
      case 'Symbol':
        forbid(node, String(node.value));
        break;
      case 'LookupVal':
        forbid(node.val as SyntaxNode, constantKey(node.val as SyntaxNode));
        break;
      case 'Pair':
        forbid(node.key as SyntaxNode, constantKey(node.key as SyntaxNode));
        break;
      case 'Filter':
      case 'FilterAsync': {
        const name = String((node.name as SyntaxNode).value);
        if (!UNSAFE_KEYS.has(name) && !hasFilter(name)) found.push({ code: INVALID, node: node.name as SyntaxNode, detail: name });
        const path = name === 'pick' ? (node.args as SyntaxNode).children?.[1] : undefined;
        const text = path && constantKey(path);
        if (path && text !== undefined) forbid(path, text.split(/[.[\]'"]+/).find((part) => UNSAFE_KEYS.has(part)));
        break;
      }
      default:
    }
  });
  return found;
}

const KNOWN_FILTERS = `nunjucks' built-in filters and ${Object.keys(TEMPLATE_FILTERS).join(', ')}`;

function problemsInString(text: string, path: string, reportInvalid: boolean): ExpressionProblem[] {
  const where = path ? `${path}: ` : '';
  let root: SyntaxNode;
  try {
    root = internals.parser.parse(text, [], NUNJUCKS_OPTIONS);
    internals.compiler.compile(text, [], [], undefined, NUNJUCKS_OPTIONS);
  } catch (error) {
    if (!reportInvalid) return [];
    const e = error as { message?: string; lineno?: number; colno?: number };
    const at = e.lineno !== undefined && e.colno !== undefined ? { line: e.lineno, column: e.colno } : endOf(text);
    const expression = expressionAt(text, at.line, at.column);
    return [
      {
        code: INVALID,
        message: `${where}${expression} is not a valid template expression: ${e.message ?? String(error)} (line ${at.line}, column ${at.column})`,
        path,
        ...at,
        expression,
      },
    ];
  }
  return lookupProblems(root)
    .filter((p) => p.code === FORBIDDEN || reportInvalid)
    .sort((a, b) => a.node.lineno - b.node.lineno || a.node.colno - b.node.colno)
    .map(({ code, node, detail }) => {
      const line = node.lineno + 1;
      const column = node.colno + 1;
      const expression = expressionAt(text, line, column);
      const message =
        code === FORBIDDEN
          ? `${where}${expression} looks up "${detail}", which templates may not use: ${[...UNSAFE_KEYS].join(', ')} reach JavaScript internals (line ${line}, column ${column})`
          : `${where}${expression} uses the filter "${detail}", which does not exist; templates have ${KNOWN_FILTERS} (line ${line}, column ${column})`;
      return { code, message, path, line, column, expression };
    });
}

/**
 * Parses (without rendering) every template string in a value and reports syntax errors, unknown
 * filters and forbidden lookups, with the JSON path of the string under `basePath` and the 1-based
 * line and column within it. Strings with `${{` get every check; strings with only `{%` (which
 * Backstage renders too) are checked for forbidden lookups, since a broken one there is left as text.
 */
export function checkExpressions(value: unknown, basePath: string): ExpressionProblem[] {
  const problems: ExpressionProblem[] = [];
  const walk = (node: unknown, path: string) => {
    if (typeof node === 'string') {
      if (node.includes('${{')) problems.push(...problemsInString(node, path, true));
      else if (node.includes('{%')) problems.push(...problemsInString(node, path, false));
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, joinPath(path, i)));
    } else if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) walk(item, joinPath(path, key));
    }
  };
  walk(value, basePath);
  return problems;
}
