import fs from 'node:fs/promises';
import path from 'node:path';
import jsYaml from 'js-yaml';
import YAML from 'yaml';

export type LocationType = 'file' | 'url';

export interface LocationSpec {
  type: LocationType;
  target: string;
}

/** Where a problem was found: `file:/abs/path` or `url:https://…`, plus line and column when known. */
export interface LocationProblem {
  code: string;
  message: string;
  location: string;
  line?: number;
  column?: number;
  entityRef?: string;
  details?: Record<string, unknown>;
}

export interface ParsedDocument {
  data: unknown;
  /** Where the document, or a field in it (`spec.owner`), stands: errors point there. */
  positionOf(field?: string): { line: number; column: number };
}

export type SourceRead =
  | { key: string; spec: LocationSpec; ok: true; documents: ParsedDocument[] }
  | { key: string; spec: LocationSpec; ok: false; problem: LocationProblem; transient: boolean };

export interface ReaderOptions {
  maxFileBytes: number;
  urlTimeoutMs: number;
  /** Reads a URL this Pave serves itself (a file in a repository it hosts) without HTTP; undefined: not one of ours. */
  readOwnUrl?: (url: string) => Promise<string | undefined>;
}

export function locationKey(spec: LocationSpec): string {
  return `${spec.type}:${spec.target}`;
}

export const GLOB_CHARS = /[*?[\]{}]/;
const IGNORE = ['**/node_modules/**', '**/.git/**'];

/**
 * Expands a location into the files or URLs it stands for: a glob into its matches, a folder
 * into every catalog-info.yaml below it. A glob that matches nothing is not an error: the
 * files may come later, as in Backstage.
 */
export async function expandLocation(spec: LocationSpec): Promise<LocationSpec[] | LocationProblem> {
  if (spec.type === 'url') return [spec];
  const target = path.resolve(spec.target);
  const { default: fg } = await import('fast-glob');
  if (GLOB_CHARS.test(spec.target)) {
    const files = await fg(target.split(path.sep).join('/'), { absolute: true, onlyFiles: true, ignore: IGNORE });
    return files.sort().map((f) => ({ type: 'file' as const, target: path.normalize(f) }));
  }
  const stat = await fs.stat(target).catch((e: NodeJS.ErrnoException) => e);
  if (stat instanceof Error) {
    return {
      code: stat.code === 'ENOENT' ? 'LOCATION_NOT_FOUND' : 'LOCATION_UNREADABLE',
      message: stat.code === 'ENOENT' ? `${target} does not exist` : `${target} cannot be read: ${stat.message}`,
      location: `file:${target}`,
    };
  }
  if (stat.isDirectory()) {
    const files = await fg('**/catalog-info.{yaml,yml,json}', { cwd: target, absolute: true, onlyFiles: true, ignore: IGNORE });
    return files.sort().map((f) => ({ type: 'file' as const, target: path.normalize(f) }));
  }
  return [{ type: 'file', target }];
}

/** Reads one file or URL and parses every document in it. Never throws: problems are returned. */
export async function readSource(spec: LocationSpec, opts: ReaderOptions): Promise<SourceRead> {
  const key = locationKey(spec);
  const fail = (code: string, message: string, transient = false, details?: Record<string, unknown>): SourceRead => ({
    key,
    spec,
    ok: false,
    transient,
    problem: { code, message, location: key, details },
  });
  let text: string;
  if (spec.type === 'file') {
    try {
      const stat = await fs.stat(spec.target);
      if (stat.size > opts.maxFileBytes) {
        return fail('LOCATION_TOO_LARGE', `${spec.target} is ${stat.size} bytes, over the limit of ${opts.maxFileBytes} (catalog.maxFileBytes)`, false, {
          size: stat.size,
          limit: opts.maxFileBytes,
        });
      }
      text = await fs.readFile(spec.target, 'utf8');
    } catch (e: any) {
      if (e.code === 'ENOENT') return fail('LOCATION_NOT_FOUND', `${spec.target} does not exist`);
      return fail('LOCATION_UNREADABLE', `${spec.target} cannot be read: ${e.message}`);
    }
  } else {
    if (!URL.canParse(spec.target)) {
      return fail('LOCATION_TARGET_INVALID', `"${spec.target}" is not an absolute http(s) URL; a url target inside a file location must be absolute`);
    }
    try {
      const own = await opts.readOwnUrl?.(spec.target);
      if (own !== undefined) {
        if (Buffer.byteLength(own) > opts.maxFileBytes) return fail('LOCATION_TOO_LARGE', `${spec.target} is over the limit of ${opts.maxFileBytes} bytes (catalog.maxFileBytes)`, false, { limit: opts.maxFileBytes });
        return parseDocuments(own, spec, key);
      }
      const res = await fetch(spec.target, { signal: AbortSignal.timeout(opts.urlTimeoutMs), redirect: 'follow' });
      if (res.status === 404) return fail('LOCATION_NOT_FOUND', `${spec.target} answered 404 Not Found`);
      if (!res.ok) return fail('LOCATION_UNREACHABLE', `${spec.target} answered ${res.status} ${res.statusText}`, res.status >= 500 || res.status === 429);
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > opts.maxFileBytes) {
        await res.body?.cancel();
        return fail('LOCATION_TOO_LARGE', `${spec.target} is ${declared} bytes, over the limit of ${opts.maxFileBytes} (catalog.maxFileBytes)`, false, {
          size: declared,
          limit: opts.maxFileBytes,
        });
      }
      const body = await readLimited(res, opts.maxFileBytes);
      if (body === undefined) {
        return fail('LOCATION_TOO_LARGE', `${spec.target} is over the limit of ${opts.maxFileBytes} bytes (catalog.maxFileBytes)`, false, { limit: opts.maxFileBytes });
      }
      text = body;
    } catch (e: any) {
      const reason = e?.name === 'TimeoutError' ? `did not answer within ${opts.urlTimeoutMs} ms` : `could not be reached: ${e?.cause?.code ?? e?.message ?? e}`;
      return fail('LOCATION_UNREACHABLE', `${spec.target} ${reason}`, true);
    }
  }
  return parseDocuments(text, spec, key);
}

async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as any as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Where things stand in one file. Only asked for when there is a problem to report, so the
 * full YAML syntax tree is built only then.
 */
class Positions {
  private docs: YAML.Document.Parsed[] | undefined;
  private lineStarts: number[] | undefined;

  constructor(private readonly text: string) {}

  documents(): YAML.Document.Parsed[] {
    this.docs ??= YAML.parseAllDocuments(this.text, { prettyErrors: false, uniqueKeys: true }) as YAML.Document.Parsed[];
    return this.docs;
  }

  at(offset: number): { line: number; column: number } {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  }

  /** The document's start, or the field's node (or its nearest present parent). */
  of(index: number, field?: string): { line: number; column: number } {
    const doc = this.documents()[index];
    if (!doc) return { line: 1, column: 1 };
    const start = doc.contents?.range?.[0] ?? 0;
    if (!field) return this.at(start);
    const parts = field.split('.');
    const rangeOf = (path: string[]) => {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return node && typeof node === 'object' && node.range ? node.range[0] : undefined;
    };
    for (let n = parts.length; n > 0; n--) {
      // Keys may hold dots themselves (annotations): also try the rest of the path as one key.
      const offset = rangeOf(parts.slice(0, n)) ?? rangeOf([...parts.slice(0, n - 1), parts.slice(n - 1).join('.')]);
      if (offset !== undefined) return this.at(offset);
    }
    return this.at(start);
  }
}

/**
 * Multi-document YAML (JSON is YAML too). The fast js-yaml parser reads the common case; when
 * it refuses a file, the \`yaml\` package (the parser Backstage uses) has the last word and says
 * where the problem is. One syntax error fails the whole file.
 */
export function parseDocuments(text: string, spec: LocationSpec, key = locationKey(spec)): SourceRead {
  const positions = new Positions(text);
  let values: unknown[] | undefined;
  try {
    values = jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA });
  } catch {
    values = undefined;
  }
  if (values === undefined) {
    const docs = positions.documents();
    for (const doc of docs) {
      const err = doc.errors[0];
      if (!err) continue;
      const { line, column } = positions.at(err.pos[0]);
      return {
        key,
        spec,
        ok: false,
        transient: false,
        problem: { code: 'YAML_INVALID', message: `${spec.target}:${line}:${column}: ${err.message.split('\n')[0]}`, location: key, line, column },
      };
    }
    values = docs.map((d) => d.toJS({ maxAliasCount: 100 }));
  }
  const documents: ParsedDocument[] = [];
  values.forEach((data, index) => {
    if (data === null || data === undefined) return;
    documents.push({ data, positionOf: (field?: string) => positions.of(index, field) });
  });
  return { key, spec, ok: true, documents };
}

/** Resolves a Location entity's target against the file or URL it was found in. */
export function resolveTarget(base: LocationSpec, type: LocationType, target: string): LocationSpec {
  if (type === 'url') return { type, target: base.type === 'url' ? new URL(target, base.target).toString() : target };
  if (base.type === 'file') return { type, target: path.resolve(path.dirname(base.target), target) };
  // A file target inside a URL location is resolved as a URL, as Backstage does for relative paths.
  return { type: 'url', target: new URL(target, base.target).toString() };
}
