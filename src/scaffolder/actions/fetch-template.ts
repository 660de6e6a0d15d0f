import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import fg from 'fast-glob';
import nunjucks from 'nunjucks';
import yaml from 'yaml';
import { badInput, PaveError } from '../../core/errors.ts';
import { defineAction, type ActionContext } from '../action.ts';
import { TEMPLATE_FILTERS, UNSAFE_KEYS } from '../filters.ts';
import { guardedRuntime } from '../sandbox.ts';
import { isBinaryFile, listTree, pathExists, resolveInside, resolveTemplateSource, writeTree } from './fetch-source.ts';

/**
 * `fetch:template` and `fetch:template:file`, and the renderer they share with
 * `fetch:cookiecutter`: file contents and paths rendered with nunjucks as Backstage's
 * `SecureTemplater` sets it up (no autoescape, `${{ }}` variable tags, or `{{ }}` with Jinja
 * compatibility in cookiecutter mode), the values crossing in as JSON, and every lookup that leads
 * to JavaScript internals refused while rendering (Backstage runs nunjucks in an isolate; Pave
 * guards the runtime instead, as `expressions.ts` does for step inputs).
 */

export interface SkeletonRendererOptions {
  /** `{{ }}` variable tags, nunjucks' Jinja compatibility and the `jsonify` filter (Backstage's `cookiecutterCompat`). */
  jinja?: boolean;
  /** Backstage's filters (`parseRepoUrl`, `pick`, …); Backstage adds them outside cookiecutter mode only. */
  backstageFilters?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** Printing an undefined value fails, as Jinja's `StrictUndefined` (cookiecutter) does. */
  strictUndefined?: boolean;
  /** Python's string methods on strings (`name.lower().replace(' ', '-')`), as real Jinja has them. */
  pythonStrings?: boolean;
  filters?: Record<string, (...args: any[]) => unknown>;
  globals?: Record<string, unknown>;
  extensions?: Record<string, nunjucks.Extension>;
}

/** Renders one text (a file's contents or a path); `where` names it in errors. */
export type SkeletonRender = (template: string, where: string) => string;

type RootRender = (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: (err: unknown, res: unknown) => void) => void;

/** Nunjucks' Jinja compatibility switch: public in the package, untyped in @types/nunjucks. */
const internals = nunjucks as unknown as { installJinjaCompat(): () => void };

const FORBIDDEN = 'TEMPLATE_EXPRESSION_FORBIDDEN';

/** The string methods of Python that Jinja templates call on strings, with Python's meaning. */
const PYTHON_STRING_METHODS: Record<string, (s: string, ...args: any[]) => unknown> = {
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  strip: (s, chars?: string) => (chars === undefined ? s.trim() : trimChars(s, chars, true, true)),
  lstrip: (s, chars?: string) => (chars === undefined ? s.trimStart() : trimChars(s, chars, true, false)),
  rstrip: (s, chars?: string) => (chars === undefined ? s.trimEnd() : trimChars(s, chars, false, true)),
  replace: (s, from: string, to: string, count?: number) => {
    if (count === undefined || count < 0) return s.split(from).join(to);
    const parts = s.split(from);
    return parts.slice(0, count + 1).join(to) + (parts.length > count + 1 ? from + parts.slice(count + 1).join(from) : '');
  },
  title: (s) => s.toLowerCase().replace(/(^|[^\p{L}])(\p{L})/gu, (_, before: string, letter: string) => before + letter.toUpperCase()),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  startswith: (s, prefix: string) => s.startsWith(prefix),
  endswith: (s, suffix: string) => s.endsWith(suffix),
  split: (s, sep?: string) => (sep === undefined ? s.trim().split(/\s+/).filter(Boolean) : s.split(sep)),
  join: (s, items: unknown[]) => items.map(String).join(s),
  find: (s, sub: string) => s.indexOf(sub),
  count: (s, sub: string) => s.split(sub).length - 1,
  isdigit: (s) => /^\d+$/.test(s),
};

function trimChars(s: string, chars: string, start: boolean, end: boolean): string {
  let from = 0;
  let to = s.length;
  while (start && from < to && chars.includes(s[from])) from += 1;
  while (end && to > from && chars.includes(s[to - 1])) to -= 1;
  return s.slice(from, to);
}

function refusal(where: string, key: string): PaveError {
  return badInput(
    FORBIDDEN,
    `${where} looked up "${key}" while rendering; templates may not use ${[...UNSAFE_KEYS].join(', ')}, which reach JavaScript internals`,
    { file: where, key },
  );
}

/** The guarded runtime for one render, with Python's string methods on strings in Jinja mode. */
function skeletonRuntime(where: string, refused: PaveError[], pythonStrings: boolean) {
  return guardedRuntime(
    (key) => {
      const error = refusal(where, key);
      refused.push(error);
      return error;
    },
    pythonStrings
      ? (obj, key) => {
          if (typeof obj !== 'string' || typeof key !== 'string' || !Object.hasOwn(PYTHON_STRING_METHODS, key)) return undefined;
          const method = PYTHON_STRING_METHODS[key];
          return (...args: unknown[]) => method(obj, ...args);
        }
      : undefined,
  );
}

/** Backstage's filters run across a JSON boundary: they get copies of their arguments and return JSON. */
function acrossBoundary(name: string, filter: (...args: unknown[]) => unknown) {
  return (...args: unknown[]) => {
    const json = JSON.stringify(filter(...structuredClone(args)));
    if (json === undefined) throw new Error(`filter ${name} returned no JSON value`);
    return JSON.parse(json) as unknown;
  };
}

/** `(path) [Line 3, Column 7]\n  unknown block tag: foo` → `unknown block tag: foo (line 3, column 7)`. */
function describeNunjucksError(error: unknown): { message: string; line?: number; column?: number } {
  const text = error instanceof Error ? error.message : String(error);
  const at = /\[Line (\d+), Column (\d+)\]/.exec(text);
  const message = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\(.*\)( \[Line \d+, Column \d+\])?$/.test(l))
    .join(' ')
    .replace(/^\w*Error: /, '');
  return at ? { message: `${message} (line ${at[1]}, column ${at[2]})`, line: Number(at[1]), column: Number(at[2]) } : { message };
}

/**
 * A renderer for the files of one skeleton, with `values` (plain JSON) as the template context.
 * Each text is compiled and rendered on its own; a text without any tag is returned as it is.
 */
export function skeletonRenderer(values: Record<string, unknown>, options: SkeletonRendererOptions = {}): SkeletonRender {
  const variableStart = options.jinja ? '{{' : '${{';
  const env = new nunjucks.Environment([], {
    autoescape: false,
    trimBlocks: options.trimBlocks ?? false,
    lstripBlocks: options.lstripBlocks ?? false,
    throwOnUndefined: options.strictUndefined ?? false,
    tags: { variableStart, variableEnd: '}}' },
  });
  if (options.jinja) env.addFilter('jsonify', env.getFilter('dump'));
  if (options.backstageFilters) {
    for (const [name, filter] of Object.entries(TEMPLATE_FILTERS)) env.addFilter(name, acrossBoundary(name, filter));
  }
  for (const [name, filter] of Object.entries(options.filters ?? {})) env.addFilter(name, filter);
  for (const [name, value] of Object.entries(options.globals ?? {})) env.addGlobal(name, value);
  for (const [name, extension] of Object.entries(options.extensions ?? {})) env.addExtension(name, extension);
  // Each render gets its own copy, as each of Backstage's renders parses the values anew: a
  // template that changes a list (`append`, `pop`) changes it for itself only.
  const json = JSON.stringify(values);
  const pythonStrings = options.pythonStrings ?? false;

  return (template, where) => {
    if (!template.includes(variableStart) && !template.includes('{%') && !template.includes('{#')) return template;
    const refused: PaveError[] = [];
    const uninstallJinja = options.jinja ? internals.installJinjaCompat() : undefined;
    try {
      const compiled = new nunjucks.Template(template, env, where, true);
      const inner = compiled as unknown as { rootRenderFunc: RootRender };
      const root = inner.rootRenderFunc;
      const runtime = skeletonRuntime(where, refused, pythonStrings);
      inner.rootRenderFunc = (e, c, frame, _runtime, cb) => root(e, c, frame, runtime, cb);
      const text = compiled.render(JSON.parse(json) as object);
      if (refused.length > 0) throw refused[0];
      return text;
    } catch (error) {
      if (refused.length > 0) throw refused[0];
      if (error instanceof PaveError) throw error;
      const { message, line, column } = describeNunjucksError(error);
      throw badInput('TEMPLATE_RENDER_FAILED', `${where} could not be rendered: ${message}`, { file: where, line, column });
    } finally {
      uninstallJinja?.();
    }
  };
}

/** Backstage's rule: a path that rendered empty, or with an empty folder name in it, is not written. */
export function isSkippedPath(rendered: string): boolean {
  return rendered === '' || rendered.startsWith('/') || rendered.includes('//');
}

const FetchTemplateInput = Type.Object({
  url: Type.String({ title: 'Fetch URL', description: 'Path of the skeleton folder, relative to the template\'s folder' }),
  targetPath: Type.Optional(
    Type.String({ title: 'Target Path', description: 'Folder inside the workspace to write the result to; the workspace root when left out' }),
  ),
  values: Type.Optional(Type.Record(Type.String(), Type.Any(), { title: 'Template Values', description: 'Values the skeleton reads as `values` (`cookiecutter` in cookiecutter compatibility mode)' })),
  copyWithoutRender: Type.Optional(
    Type.Array(Type.String(), {
      title: '[Deprecated] Copy Without Render',
      description: 'Glob patterns, relative to the skeleton; matching files and folders are copied as they are, names included. Use copyWithoutTemplating instead',
    }),
  ),
  copyWithoutTemplating: Type.Optional(
    Type.Array(Type.String(), {
      title: 'Copy Without Templating',
      description: 'Glob patterns, relative to the skeleton; the contents of matching files are copied as they are, while their paths are still rendered',
    }),
  ),
  cookiecutterCompat: Type.Optional(
    Type.Boolean({ title: 'Cookiecutter compatibility mode', description: 'Render skeletons written for fetch:cookiecutter: `{{ cookiecutter.x }}` tags, Jinja syntax and the `jsonify` filter' }),
  ),
  templateFileExtension: Type.Optional(
    Type.Unsafe<string | boolean>({
      type: ['string', 'boolean'],
      title: 'Template File Extension',
      description: 'Render only the files with this extension, and drop the extension from their names; `true` means `.njk`',
    }),
  ),
  replace: Type.Optional(Type.Boolean({ title: 'Replace files', description: 'Overwrite files that already exist in the target folder; by default they are kept' })),
  trimBlocks: Type.Optional(Type.Boolean({ title: 'Trim Blocks', description: 'Drop the first newline after a block tag (`{% … %}`, not variable tags)' })),
  lstripBlocks: Type.Optional(Type.Boolean({ title: 'Lstrip Blocks', description: 'Strip spaces and tabs from the start of a line up to a block tag' })),
  token: Type.Optional(Type.String({ title: 'Token', description: 'Token for reading the skeleton from an SCM host; not used for local skeletons' })),
});

export type FetchTemplateInput = Static<typeof FetchTemplateInput>;

function stepExample(action: string, id: string, name: string, input: Record<string, unknown>): string {
  return yaml.stringify({ steps: [{ id, name, action, input }] });
}

function checkPatterns(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    throw badInput('ACTION_INPUT_INVALID', `${field} must be a list of glob patterns, got ${JSON.stringify(value)}`, { field, value });
  }
  return value as string[];
}

interface TemplateSettings {
  copyOnly?: string[];
  renderCopyOnlyPaths: boolean;
  extension: string | false;
}

/** The input rules of Backstage's fetch:template, checked before anything is read. */
function templateSettings(ctx: ActionContext<FetchTemplateInput>): TemplateSettings {
  const { copyWithoutRender, copyWithoutTemplating, templateFileExtension, cookiecutterCompat } = ctx.input;
  if (copyWithoutRender && copyWithoutTemplating) {
    throw badInput(
      'ACTION_INPUT_INVALID',
      'copyWithoutRender and copyWithoutTemplating cannot be given together; copyWithoutRender is the older name: keep copyWithoutTemplating',
      { field: 'copyWithoutRender' },
    );
  }
  let copyOnly = checkPatterns(copyWithoutTemplating, 'copyWithoutTemplating');
  if (copyWithoutRender) {
    copyOnly = checkPatterns(copyWithoutRender, 'copyWithoutRender');
    ctx.log('copyWithoutRender is deprecated: use copyWithoutTemplating (which also renders the paths of the files it copies)');
  }
  if (templateFileExtension && (copyOnly || cookiecutterCompat)) {
    throw badInput(
      'ACTION_INPUT_INVALID',
      `templateFileExtension cannot be combined with ${copyOnly ? (copyWithoutRender ? 'copyWithoutRender' : 'copyWithoutTemplating') : 'cookiecutterCompat'}: with an extension, only the files that have it are rendered`,
      { field: 'templateFileExtension', value: templateFileExtension },
    );
  }
  let extension: string | false = false;
  if (templateFileExtension) {
    if (typeof templateFileExtension !== 'string' && templateFileExtension !== true) {
      throw badInput('ACTION_INPUT_INVALID', `templateFileExtension must be a string or true, got ${JSON.stringify(templateFileExtension)}`, {
        field: 'templateFileExtension',
        value: templateFileExtension,
      });
    }
    extension = templateFileExtension === true ? '.njk' : templateFileExtension;
    if (!extension.startsWith('.')) extension = `.${extension}`;
  }
  return { copyOnly, renderCopyOnlyPaths: !copyWithoutRender, extension };
}

function rendererFor(input: Pick<FetchTemplateInput, 'values' | 'cookiecutterCompat' | 'trimBlocks' | 'lstripBlocks'>): SkeletonRender {
  const values = input.values ?? {};
  return skeletonRenderer(input.cookiecutterCompat ? { cookiecutter: values } : { values }, {
    jinja: input.cookiecutterCompat,
    backstageFilters: !input.cookiecutterCompat,
    trimBlocks: input.trimBlocks,
    lstripBlocks: input.lstripBlocks,
  });
}

export const fetchTemplate = defineAction<FetchTemplateInput>({
  id: 'fetch:template',
  description:
    'Renders a skeleton folder into the workspace (or the `targetPath` folder in it): values are filled into file contents and into file and folder names.',
  schema: { input: FetchTemplateInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Render the skeleton folder that sits beside the template into ./target, filling in values.',
      example: stepExample('fetch:template', 'fetch-template', 'Fetch template', {
        url: './skeleton',
        targetPath: './target',
        values: { name: '${{ parameters.name }}', count: 1234, itemList: ['first', 'second', 'third'], showDummyFile: false },
      }),
    },
    {
      description: 'Copy the CI workflows as they are (they hold GitHub `${{ }}` expressions of their own), while still rendering their paths.',
      example: stepExample('fetch:template', 'fetch-template', 'Fetch template', {
        url: './skeleton',
        values: { name: '${{ parameters.name }}', count: 1, itemList: [], showDummyFile: true },
        copyWithoutTemplating: ['.github/workflows/*'],
      }),
    },
    {
      description: 'Render only the files ending in .njk (the extension is dropped); copy every other file as it is.',
      example: stepExample('fetch:template', 'fetch-template', 'Fetch template', {
        url: './skeleton-njk',
        values: { name: '${{ parameters.name }}' },
        templateFileExtension: true,
      }),
    },
    {
      description: 'Render a skeleton written for fetch:cookiecutter (`{{ cookiecutter.name }}`).',
      example: stepExample('fetch:template', 'fetch-template', 'Fetch template', {
        url: './skeleton-cookiecutter',
        values: { name: '${{ parameters.name }}', private: true },
        cookiecutterCompat: true,
      }),
    },
  ],
  async handler(ctx) {
    const settings = templateSettings(ctx);
    const targetPath = ctx.input.targetPath ?? './';
    const outputDir = await resolveInside(ctx.workspacePath, targetPath, 'targetPath');
    const sourceDir = await resolveTemplateSource(ctx.templateInfo.baseUrl, ctx.input.url, 'directory');
    const entries = await listTree(sourceDir);
    const copyOnly = new Set(
      settings.copyOnly ? await fg(settings.copyOnly, { cwd: sourceDir, dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false }) : [],
    );
    const render = rendererFor(ctx.input);
    ctx.log(`Rendering ${entries.length} files and folders from ${ctx.input.url} into ${targetPath}`);
    const { extension } = settings;
    const result = await writeTree({
      sourceDir,
      outputDir,
      workspacePath: ctx.workspacePath,
      entries,
      replace: ctx.input.replace ?? false,
      render,
      plan(entry) {
        let target = entry;
        let renderContents: boolean;
        if (extension) {
          renderContents = path.extname(entry) === extension;
          if (renderContents) target = entry.slice(0, -extension.length);
          target = render(target, `the path ${entry}`);
        } else {
          renderContents = !copyOnly.has(entry);
          if (renderContents || settings.renderCopyOnlyPaths) target = render(target, `the path ${entry}`);
        }
        return isSkippedPath(target) ? undefined : { target, render: renderContents };
      },
    });
    ctx.logger.debug({ ...result, outputDir }, 'fetch:template wrote the skeleton');
    ctx.log(`Wrote ${result.written} files to ${targetPath} (${result.skipped} skipped: empty paths or files already there)`);
  },
});

const FetchTemplateFileInput = Type.Object({
  url: Type.String({ title: 'Fetch URL', description: 'Path of the file to render, relative to the template\'s folder' }),
  targetPath: Type.String({ title: 'Target Path', description: 'Path inside the workspace to write the rendered file to' }),
  values: Type.Optional(Type.Record(Type.String(), Type.Any(), { title: 'Template Values', description: 'Values the file reads as `values` (`cookiecutter` in cookiecutter compatibility mode)' })),
  cookiecutterCompat: Type.Optional(
    Type.Boolean({ title: 'Cookiecutter compatibility mode', description: 'Render a file written for fetch:cookiecutter: `{{ cookiecutter.x }}` tags, Jinja syntax and the `jsonify` filter' }),
  ),
  replace: Type.Optional(Type.Boolean({ title: 'Replace file', description: 'Overwrite the file when it already exists; by default it is kept' })),
  trimBlocks: Type.Optional(Type.Boolean({ title: 'Trim Blocks', description: 'Drop the first newline after a block tag (`{% … %}`, not variable tags)' })),
  lstripBlocks: Type.Optional(Type.Boolean({ title: 'Lstrip Blocks', description: 'Strip spaces and tabs from the start of a line up to a block tag' })),
  token: Type.Optional(Type.String({ title: 'Token', description: 'Token for reading the file from an SCM host; not used for local files' })),
});

export type FetchTemplateFileInput = Static<typeof FetchTemplateFileInput>;

export const fetchTemplateFile = defineAction<FetchTemplateFileInput>({
  id: 'fetch:template:file',
  description: 'Renders a single file with values and writes it into the workspace.',
  schema: { input: FetchTemplateFileInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Render one file that sits beside the template, filling in values.',
      example: stepExample('fetch:template:file', 'fetch-template-file', 'Fetch template file', {
        url: './skeleton.txt',
        targetPath: './target/skeleton.txt',
        values: { name: '${{ parameters.name }}', count: 1234, itemList: ['first', 'second', 'third'] },
      }),
    },
  ],
  async handler(ctx) {
    if (typeof ctx.input.targetPath !== 'string' || ctx.input.targetPath === '') {
      throw badInput('ACTION_INPUT_INVALID', `targetPath must name the file to write, got ${JSON.stringify(ctx.input.targetPath)}`, { field: 'targetPath' });
    }
    const outputPath = await resolveInside(ctx.workspacePath, ctx.input.targetPath, 'targetPath');
    if (!ctx.input.replace && (await pathExists(outputPath))) {
      ctx.log(`${ctx.input.targetPath} already exists in the workspace; kept as it is (set replace: true to overwrite it)`);
      return;
    }
    const source = await resolveTemplateSource(ctx.templateInfo.baseUrl, ctx.input.url, 'file');
    await mkdir(path.dirname(outputPath), { recursive: true });
    const contents = await readFile(source);
    const rendered = (await isBinaryFile(source)) ? contents : rendererFor(ctx.input)(contents.toString('utf8'), ctx.input.url);
    await writeFile(outputPath, rendered);
    ctx.log(`Rendered ${ctx.input.url} to ${ctx.input.targetPath}`);
  },
});
