import { chmodSync, constants as fsConstants, copyFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { badInput } from '../../core/errors.ts';
import { inTurns } from '../../core/in-turns.ts';

/**
 * Where the workspace actions read and write: the `url` of a fetch step resolved to a local file or
 * folder (as Backstage's `fetchContents`/`fetchFile` do for templates registered from `file:`
 * locations), paths confined to a base folder (Backstage's `resolveSafeChildPath`), and the copy of
 * a folder tree into the workspace that `fetch:plain`, `fetch:template` and `fetch:cookiecutter` share.
 */

/** True when `child` is `base` or lies below it (both absolute and normalised). */
export function isWithin(base: string, child: string): boolean {
  const relative = path.relative(base, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (`p` need not exist). */
function realpathOfNearest(p: string): string {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(realpathSync.native(current), ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(current);
      if (parent === current) return p;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * `child` resolved against `base`, refused when it leads outside `base`, by `..`, by being
 * absolute elsewhere, or through a symbolic link that points out. `field` names the input the path
 * came from, for the message.
 */
export async function resolveInside(base: string, child: string, field: string, baseName = 'the workspace'): Promise<string> {
  const resolved = path.resolve(base, child);
  if (isWithin(base, resolved)) {
    if (isWithin(realpathOfNearest(base), realpathOfNearest(resolved))) return resolved;
  }
  throw badInput(
    'WORKSPACE_PATH_OUTSIDE',
    `${field} "${child}" leads outside ${baseName} (${base}); it must be a relative path that stays inside it, without ".." above its root or links that point out`,
    { field, value: child, base },
  );
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** What the `isbinaryfile` check behind Backstage's fetch actions comes down to for Pave: a NUL byte in the first 8 KB. */
export async function isBinaryFile(file: string): Promise<boolean> {
  const handle = await open(file, fsConstants.O_RDONLY);
  try {
    const buffer = Buffer.alloc(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

const SUPPORTED_SOURCES =
  'a path relative to the template\'s folder (e.g. "./skeleton"), resolved inside that folder, for templates that Pave reads from a local folder or a file: URL';

function unsupported(url: string, why: string) {
  return badInput('TEMPLATE_SOURCE_UNSUPPORTED', `Cannot fetch "${url}": ${why}. Pave fetches ${SUPPORTED_SOURCES}`, { url });
}

function isAbsoluteUrl(text: string): boolean {
  // A one-letter scheme is a Windows drive, not a URL.
  return /^[a-z][a-z0-9+.-]+:/i.test(text);
}

/** The local folder a template's relative `url`s resolve against: `baseUrl` itself, or its folder when it names a file (`template.yaml`). */
async function templateFolder(baseUrl: string | undefined, url: string): Promise<string> {
  if (!baseUrl) {
    throw badInput(
      'TEMPLATE_SOURCE_UNKNOWN',
      `Cannot fetch "${url}": the URL is relative and the template's location (templateInfo.baseUrl) is not known`,
      { url },
    );
  }
  let base: string;
  if (isAbsoluteUrl(baseUrl)) {
    const parsed = new URL(baseUrl);
    if (parsed.protocol !== 'file:') {
      throw unsupported(url, `the template was read from ${baseUrl}, and Pave does not download from ${parsed.protocol} locations`);
    }
    base = fileURLToPath(parsed);
  } else {
    base = path.resolve(baseUrl);
  }
  for (const candidate of [base, path.dirname(base)]) {
    try {
      const stats = await stat(candidate);
      return stats.isDirectory() ? candidate : path.dirname(candidate);
    } catch {
      // A template file that is gone still names its folder; try that.
    }
  }
  throw badInput('TEMPLATE_SOURCE_NOT_FOUND', `Cannot fetch "${url}": the template's location ${baseUrl} does not exist`, { url, baseUrl });
}

/**
 * The local file or folder a fetch step's `url` names. Relative URLs resolve against the
 * template's folder and must stay inside it (Backstage does the same for templates read from
 * `file:` locations); absolute URLs are refused, since Pave reads templates only from disk.
 */
export async function resolveTemplateSource(baseUrl: string | undefined, url: string, kind: 'directory' | 'file'): Promise<string> {
  if (typeof url !== 'string' || url === '') {
    throw badInput('ACTION_INPUT_INVALID', `url must be a non-empty string, got ${JSON.stringify(url)}`, { field: 'url', value: url });
  }
  if (isAbsoluteUrl(url)) {
    const scheme = url.slice(0, url.indexOf(':') + 1);
    throw unsupported(url, scheme === 'http:' || scheme === 'https:' ? 'reading a directory tree over HTTP needs an SCM integration, which Pave does not have' : `${scheme} URLs are not read`);
  }
  const folder = await templateFolder(baseUrl, url);
  const source = await resolveInside(folder, url, 'url', `the template's folder`);
  let stats;
  try {
    stats = await stat(source);
  } catch {
    throw badInput('TEMPLATE_SOURCE_NOT_FOUND', `Cannot fetch "${url}": ${source} does not exist`, { url, path: source });
  }
  if (kind === 'directory' && !stats.isDirectory()) {
    throw badInput('TEMPLATE_SOURCE_NOT_FOUND', `Cannot fetch "${url}": ${source} is a file, and this action fetches a directory`, { url, path: source });
  }
  if (kind === 'file' && !stats.isFile()) {
    throw badInput('TEMPLATE_SOURCE_NOT_FOUND', `Cannot fetch "${url}": ${source} is not a file, and this action fetches a single file`, { url, path: source });
  }
  return source;
}

/**
 * Every entry under `dir` as Backstage's fetch actions list it: relative, `/`-separated, dotfiles
 * included, folders marked with a trailing `/`, symbolic links listed but not followed.
 */
export async function listTree(dir: string): Promise<string[]> {
  return fg('**/*', { cwd: dir, dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false });
}

/** What to do with one entry of a tree being written: where it goes (relative to the output folder) and whether its contents are rendered. */
export interface EntryPlan {
  target: string;
  render: boolean;
}

export interface WriteTreeOptions {
  sourceDir: string;
  outputDir: string;
  workspacePath: string;
  entries: string[];
  /** `undefined` skips the entry (a path that rendered empty). */
  plan(entry: string): EntryPlan | undefined;
  /** Renders a text file's contents; `entry` names it in errors. */
  render?(text: string, entry: string): string;
  /** Overwrite what is already there; when false an existing path is left as it is. */
  replace: boolean;
  log?(message: string): void;
}

export interface WriteTreeResult {
  written: number;
  skipped: number;
}

/** A link that points outside the workspace would let a later step read or write there. */
function copyLink(source: string, destination: string, workspacePath: string, entry: string): void {
  const target = readlinkSync(source);
  const resolved = path.resolve(path.dirname(destination), target);
  if (!isWithin(realpathOfNearest(workspacePath), realpathOfNearest(resolved))) {
    throw badInput(
      'WORKSPACE_PATH_OUTSIDE',
      `${entry} is a symbolic link to "${target}", which points outside the workspace; links in a skeleton must point inside what it creates`,
      { entry, target },
    );
  }
  rmSync(destination, { force: true });
  symlinkSync(target, destination);
}

/**
 * Writes a folder tree into the workspace: folders created, symbolic links copied as links,
 * binary files and files not rendered copied byte for byte, text files rendered, and every file
 * keeping its permission bits.
 *
 * Every entry is planned (and its path rendered) before anything is written, so a path that
 * cannot be rendered leaves the workspace untouched; when two entries render to the same path, the
 * first is kept (the last with `replace`). Each folder a file goes into is checked once, before it
 * is created, to resolve inside the output folder, links included.
 */
export async function writeTree(options: WriteTreeOptions): Promise<WriteTreeResult> {
  const { sourceDir, outputDir, workspacePath, replace } = options;
  const planned = new Map<string, { entry: string; plan: EntryPlan; destination: string }>();
  let skipped = 0;
  for (const entry of options.entries) {
    const plan = options.plan(entry);
    if (!plan) {
      skipped += 1;
      continue;
    }
    const destination = path.resolve(outputDir, plan.target);
    if (!isWithin(outputDir, destination)) throw outsideTarget(entry, plan.target, outputDir);
    if (planned.has(destination)) {
      skipped += 1;
      if (!replace) continue;
      planned.delete(destination);
    }
    planned.set(destination, { entry, plan, destination });
  }

  const realOutput = realpathOfNearest(outputDir);
  const made = new Set<string>();
  const folder = (dir: string) => {
    if (made.has(dir)) return;
    if (!isWithin(realOutput, realpathOfNearest(dir))) throw outsideTarget(path.relative(outputDir, dir), path.relative(outputDir, dir), outputDir);
    mkdirSync(dir, { recursive: true });
    made.add(dir);
  };

  let written = 0;
  // Small files: synchronous calls, a batch per turn of the event loop (see inTurns).
  await inTurns(planned.values(), ({ entry, plan, destination }) => {
    // A folder is made (or found) whatever `replace` says; only files count as written or skipped.
    if (entry.endsWith('/')) return folder(destination);
    folder(path.dirname(destination));
    const existing = lstatSync(destination, { throwIfNoEntry: false });
    if (existing && !replace) {
      skipped += 1;
      return;
    }
    const source = path.join(sourceDir, entry);
    const stats = lstatSync(source);
    if (stats.isSymbolicLink()) {
      copyLink(source, destination, workspacePath, entry);
    } else {
      // A file already there (read-only, or a link) is replaced, not written through.
      if (existing) rmSync(destination, { force: true });
      const contents = plan.render && options.render ? readFileSync(source) : undefined;
      if (contents === undefined || contents.subarray(0, 8192).includes(0)) {
        copyFileSync(source, destination);
      } else {
        const mode = stats.mode & 0o7777;
        writeFileSync(destination, options.render!(contents.toString('utf8'), entry));
        // Set, not left to the creation mode: that one is narrowed by the process's umask.
        chmodSync(destination, mode);
      }
    }
    written += 1;
  });
  return { written, skipped };
}

function outsideTarget(entry: string, target: string, outputDir: string) {
  return badInput(
    'WORKSPACE_PATH_OUTSIDE',
    `The path "${entry}" (rendered as "${target}") leads outside the target folder (${outputDir}); it must be a relative path that stays inside it, without ".." above its root or links that point out`,
    { field: `The path "${entry}" (rendered as "${target}")`, value: target, base: outputDir },
  );
}
