import { randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type nunjucks from 'nunjucks';
import yaml from 'yaml';
import { badInput } from '../../core/errors.ts';
import { defineAction } from '../action.ts';
import { listTree, resolveInside, resolveTemplateSource, writeTree } from './fetch-source.ts';
import { isSkippedPath, skeletonRenderer, type SkeletonRender } from './fetch-template.ts';

/**
 * `fetch:cookiecutter` without Python: the fetched folder is rendered as cookiecutter renders a
 * project. Backstage's action puts the fetched folder inside a project folder named
 * `{{cookiecutter and 'contents'}}`, writes the values over the `cookiecutter.json` found in it,
 * and runs `cookiecutter --no-input`; so the result is the whole fetched folder rendered (a
 * `{{cookiecutter.project_slug}}` folder in it becomes the slug), its `cookiecutter.json` gives the
 * defaults, and hooks are never run. Pave does the same with nunjucks in Jinja mode: `{{ }}` tags,
 * strict undefined values, Python's string methods and cookiecutter's built-in extensions
 * (`jsonify`, `slugify`, `random_ascii_string`, `uuid4()`, `{% now %}`).
 */

const CookiecutterInput = Type.Object({
  url: Type.String({ title: 'Fetch URL', description: 'Path of the cookiecutter template folder, relative to the template\'s folder' }),
  targetPath: Type.Optional(Type.String({ title: 'Target Path', description: 'Folder inside the workspace to write the result to; the workspace root when left out' })),
  values: Type.Record(Type.String(), Type.Any(), {
    title: 'Template Values',
    description: 'Values for cookiecutter; they override the defaults of the template\'s cookiecutter.json',
  }),
  copyWithoutRender: Type.Optional(
    Type.Array(Type.String(), {
      title: 'Copy Without Render',
      description: 'Shell-style wildcards (cookiecutter\'s `_copy_without_render`); matching files and folders are copied without rendering their contents',
    }),
  ),
  extensions: Type.Optional(
    Type.Array(Type.String(), {
      title: 'Template Extensions',
      description: 'Jinja2 extensions (cookiecutter\'s `_extensions`); Pave has cookiecutter\'s built-in ones and no others',
    }),
  ),
  imageName: Type.Optional(
    Type.String({ title: 'Cookiecutter Docker image', description: 'Docker image Backstage runs cookiecutter in; not used, since Pave renders the template itself' }),
  ),
});

export type CookiecutterInput = Static<typeof CookiecutterInput>;

/** cookiecutter's own extensions, always on in cookiecutter and in Pave; naming them is allowed and changes nothing. */
const BUILT_IN_EXTENSIONS = new Set([
  'jinja2_time.TimeExtension',
  'cookiecutter.extensions.TimeExtension',
  'cookiecutter.extensions.JsonifyExtension',
  'cookiecutter.extensions.SlugifyExtension',
  'cookiecutter.extensions.RandomStringExtension',
  'cookiecutter.extensions.UUIDExtension',
]);

type Keywords = Record<string, unknown> & { __keywords?: true };

/** Nunjucks passes `name=value` arguments as a last object marked `__keywords`. */
function splitKeywords(args: unknown[]): { positional: unknown[]; keywords: Keywords } {
  const last = args[args.length - 1] as Keywords | undefined;
  if (last && typeof last === 'object' && last.__keywords) return { positional: args.slice(0, -1), keywords: last };
  return { positional: args, keywords: {} };
}

/** python-slugify's default behaviour (what cookiecutter's `slugify` filter calls), for the options templates use. */
export function slugify(value: unknown, ...args: unknown[]): string {
  const { keywords } = splitKeywords(args);
  const separator = typeof keywords.separator === 'string' ? keywords.separator : '-';
  const lowercase = keywords.lowercase !== false;
  let text = String(value ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/'+/g, '');
  if (lowercase) text = text.toLowerCase();
  text = text.replace(lowercase ? /[^-a-z0-9]+/g : /[^-a-zA-Z0-9]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '');
  const maxLength = typeof keywords.max_length === 'number' ? keywords.max_length : 0;
  if (maxLength > 0 && text.length > maxLength) text = text.slice(0, maxLength).replace(/-+$/, '');
  return separator === '-' ? text : text.split('-').join(separator);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

function randomAsciiString(...args: unknown[]): string {
  const { positional, keywords } = splitKeywords(args);
  const length = Number(positional[0] ?? keywords.length);
  const punctuation = positional[1] ?? keywords.punctuation;
  const alphabet = punctuation ? LETTERS + PUNCTUATION : LETTERS;
  if (!Number.isInteger(length) || length < 0) throw new Error(`random_ascii_string needs a length (a whole number), got ${JSON.stringify(positional[0])}`);
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The wall-clock time of `date` in a zone: `utc`, `local`, or an IANA name such as `Europe/Berlin`. */
function wallClock(date: Date, zone: string) {
  const timeZone = zone.toLowerCase() === 'utc' ? 'UTC' : zone.toLowerCase() === 'local' ? undefined : zone;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'long',
      timeZoneName: 'longOffset',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const offset = /GMT([+-]\d{2}):?(\d{2})?/.exec(parts.timeZoneName ?? '');
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday),
    offset: offset ? `${offset[1]}${offset[2] ?? '00'}` : '+0000',
  };
}

/** Python's `strftime` for the directives date formats in templates use. */
export function strftime(date: Date, zone: string, format: string): string {
  const t = wallClock(date, zone);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const dayOfYear = Math.round((Date.UTC(t.year, t.month - 1, t.day) - Date.UTC(t.year, 0, 1)) / 86_400_000) + 1;
  const directives: Record<string, string> = {
    Y: String(t.year),
    y: pad(t.year % 100),
    m: pad(t.month),
    d: pad(t.day),
    H: pad(t.hour),
    I: pad(t.hour % 12 === 0 ? 12 : t.hour % 12),
    p: t.hour < 12 ? 'AM' : 'PM',
    M: pad(t.minute),
    S: pad(t.second),
    f: '000000',
    B: MONTHS[t.month - 1],
    b: MONTHS[t.month - 1].slice(0, 3),
    A: WEEKDAYS[t.weekday],
    a: WEEKDAYS[t.weekday].slice(0, 3),
    j: pad(dayOfYear, 3),
    z: t.offset,
    '%': '%',
  };
  return format.replace(/%(.)/g, (whole, d: string) => directives[d] ?? whole);
}

/** jinja2_time's `{% now 'utc', '%Y' %}` tag (cookiecutter's TimeExtension); the format defaults to `%Y-%m-%d`. */
const nowTag: nunjucks.Extension & { run(context: unknown, zone: unknown, format?: unknown): string } = {
  tags: ['now'],
  parse(parser: any, nodes: any) {
    const token = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(token.value);
    return new nodes.CallExtension(this, 'run', args);
  },
  run(_context, zone, format = '%Y-%m-%d') {
    if (typeof zone !== 'string' || zone === '') throw new Error(`{% now %} needs a time zone ('utc', 'local' or a name such as 'Europe/Berlin'), got ${JSON.stringify(zone)}`);
    return strftime(new Date(), zone, String(format));
  },
};

/** Backstage turns values that arrive as JSON text (a list or object typed into a text field) back into JSON before cookiecutter sees them. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!/^[[{"]/.test(text)) return value;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'string' || (parsed !== null && typeof parsed === 'object') ? parsed : value;
  } catch {
    return value;
  }
}

function cookiecutterRenderer(context: Record<string, unknown>): SkeletonRender {
  return skeletonRenderer(
    { cookiecutter: context },
    {
      jinja: true,
      strictUndefined: true,
      pythonStrings: true,
      filters: { slugify },
      globals: { uuid4: () => randomUUID(), random_ascii_string: randomAsciiString },
      extensions: { now: nowTag },
    },
  );
}

/**
 * cookiecutter's answers without prompting (`--no-input`): private `_keys` kept as written, a
 * list is a choice whose first item is taken, strings are rendered with the answers so far,
 * numbers become strings, and dictionaries are rendered after everything else.
 */
export function cookiecutterContext(merged: Record<string, unknown>): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  const renderVariable = (raw: unknown, key: string): unknown => {
    if (raw === null || raw === undefined || typeof raw === 'boolean') return raw;
    if (Array.isArray(raw)) return raw.map((item) => renderVariable(item, key));
    if (typeof raw === 'object') {
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [String(renderVariable(k, key)), renderVariable(v, key)]));
    }
    return cookiecutterRenderer(context)(String(raw), `cookiecutter.json "${key}"`);
  };
  for (const [key, raw] of Object.entries(merged)) {
    if (key.startsWith('_') && !key.startsWith('__')) context[key] = raw;
    else if (Array.isArray(raw)) {
      if (raw.length === 0) throw badInput('COOKIECUTTER_CONTEXT_INVALID', `cookiecutter.json "${key}" is an empty list of choices; give at least one`, { key });
      context[key] = renderVariable(raw[0], key);
    } else if (raw === null || typeof raw !== 'object') context[key] = renderVariable(raw, key);
  }
  for (const [key, raw] of Object.entries(merged)) {
    if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !(key.startsWith('_') && !key.startsWith('__'))) context[key] = renderVariable(raw, key);
  }
  return context;
}

/** Python's `fnmatch` (what `_copy_without_render` uses): `*` matches anything, `/` included. */
function fnmatchPattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        let set = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        source += `[${set}]`;
        i = end;
      }
    } else source += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

async function readDefaults(sourceDir: string, url: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path.join(sourceDir, 'cookiecutter.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badInput('COOKIECUTTER_CONTEXT_INVALID', `${url}/cookiecutter.json is not valid JSON: ${(error as Error).message}`, { url });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badInput('COOKIECUTTER_CONTEXT_INVALID', `${url}/cookiecutter.json must hold an object of variables, got ${JSON.stringify(parsed)}`, { url });
  }
  return parsed as Record<string, unknown>;
}

function checkList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw badInput('ACTION_INPUT_INVALID', `${field} must be a list of strings, got ${JSON.stringify(value)}`, { field, value });
  }
  return value as string[];
}

function example(description: string, input: Record<string, unknown>) {
  return {
    description,
    example: yaml.stringify({ steps: [{ id: 'fetchTemplate', name: 'Fetch and Template Using Cookiecutter', action: 'fetch:cookiecutter', input }] }),
  };
}

export const fetchCookiecutter = defineAction<CookiecutterInput>({
  id: 'fetch:cookiecutter',
  description: 'Renders a cookiecutter template folder into the workspace, as `cookiecutter --no-input` would, with the given values over its cookiecutter.json.',
  schema: { input: CookiecutterInput },
  supportsDryRun: true,
  examples: [
    example('Render a cookiecutter template with the least input.', { url: './cookiecutter', values: { project_name: '${{ parameters.name }}' } }),
    example('Render it into a folder of the workspace.', {
      url: './cookiecutter',
      targetPath: 'custom-path',
      values: { project_name: '${{ parameters.name }}' },
    }),
    example('Copy some files without rendering their contents.', {
      url: './cookiecutter',
      values: { project_name: '${{ parameters.name }}' },
      copyWithoutRender: ['.github/*', '*.md'],
    }),
    example('Name a Jinja2 extension the template needs (cookiecutter\'s built-in ones are available).', {
      url: './cookiecutter',
      values: { project_name: '${{ parameters.name }}' },
      extensions: ['jinja2_time.TimeExtension'],
    }),
    example('A Docker image for cookiecutter is accepted and not used.', {
      url: './cookiecutter',
      values: { project_name: '${{ parameters.name }}' },
      imageName: 'custom/cookiecutter-image',
    }),
  ],
  async handler(ctx) {
    const copyWithoutRender = checkList(ctx.input.copyWithoutRender, 'copyWithoutRender');
    const extensions = checkList(ctx.input.extensions, 'extensions');
    const values = ctx.input.values ?? {};
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw badInput('ACTION_INPUT_INVALID', `values must be an object of cookiecutter variables, got ${JSON.stringify(values)}`, { field: 'values' });
    }
    const targetPath = ctx.input.targetPath ?? './';
    const outputDir = await resolveInside(ctx.workspacePath, targetPath, 'targetPath');
    const sourceDir = await resolveTemplateSource(ctx.templateInfo.baseUrl, ctx.input.url, 'directory');
    if (ctx.input.imageName) ctx.log(`imageName ${ctx.input.imageName} is not used: Pave renders cookiecutter templates itself, without Docker or Python`);

    const defaults = await readDefaults(sourceDir, ctx.input.url);
    const merged: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(values)) if (key !== 'imageName' && value !== undefined) merged[key] = parseJsonText(value);
    if (copyWithoutRender) merged._copy_without_render = copyWithoutRender;
    if (extensions) merged._extensions = extensions;
    const unknownExtensions = (checkList(merged._extensions, '_extensions') ?? []).filter((e) => !BUILT_IN_EXTENSIONS.has(e));
    if (unknownExtensions.length > 0) {
      throw badInput(
        'COOKIECUTTER_EXTENSION_UNSUPPORTED',
        `The Jinja2 extensions ${unknownExtensions.join(', ')} cannot be loaded: Pave renders cookiecutter templates without Python and has only cookiecutter's built-in extensions (${[...BUILT_IN_EXTENSIONS].join(', ')})`,
        { extensions: unknownExtensions },
      );
    }

    const context = cookiecutterContext(merged);
    const patterns = (checkList(context._copy_without_render, '_copy_without_render') ?? []).map(fnmatchPattern);
    const copyOnly = (p: string) => patterns.some((re) => re.test(p));
    const render = cookiecutterRenderer(context);
    const entries = await listTree(sourceDir);
    const result = await writeTree({
      sourceDir,
      outputDir,
      workspacePath: ctx.workspacePath,
      entries,
      replace: true,
      render,
      plan(entry) {
        const parts = entry.replace(/\/$/, '').split('/');
        // A folder that is copied without rendering keeps the names inside it as they are; only its own path is rendered.
        for (let depth = 1; depth <= parts.length; depth++) {
          const prefix = parts.slice(0, depth).join('/');
          if (copyOnly(prefix)) {
            const rest = entry.slice(prefix.length);
            const target = render(prefix, `the path ${prefix}`) + rest;
            return isSkippedPath(target) ? undefined : { target, render: false };
          }
        }
        const target = render(entry, `the path ${entry}`);
        return isSkippedPath(target) ? undefined : { target, render: true };
      },
    });
    ctx.log(`Rendered ${result.written} files from the cookiecutter template ${ctx.input.url} into ${targetPath}`);
  },
});
