/**
 * A docs site from a folder: mkdocs.yml (or TechDocs' defaults without one), every Markdown page of
 * docs_dir rendered, every other file kept as an asset, and the navigation resolved. Nothing here
 * touches a database. Problems that stop the build are returned as `{ problem }`; the others ride
 * along in `site.problems`.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { renderMarkdown, type RenderedPage } from './markdown.ts';
import { isHttpUrl, parseMkdocsConfig, resolveNav, type DocsProblem, type MkdocsConfig, type NavNode } from './mkdocs.ts';

export interface DocsLimits {
  maxPages: number;
  maxPageBytes: number;
  maxSiteBytes: number;
  maxAssetBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_DOCS_LIMITS: DocsLimits = { maxPages: 2000, maxPageBytes: 1 * MiB, maxSiteBytes: 50 * MiB, maxAssetBytes: 10 * MiB };

export interface BuiltSite {
  siteName: string;
  siteDescription?: string;
  nav: NavNode[];
  pages: RenderedPage[];
  assets: { path: string; contentType: string; bytes: Buffer }[];
  /** Warnings: the site was built, but these pages or links need fixing. */
  problems: DocsProblem[];
  editUrl?: (pagePath: string) => string | undefined;
}

export interface BuildOptions {
  limits?: Partial<DocsLimits>;
  pageUrl: (pagePath: string) => string;
  assetUrl: (assetPath: string) => string;
  /** URL of the folder holding mkdocs.yml in its repository; edit links are made from it when mkdocs.yml has no repo_url + edit_uri. */
  editBase?: string;
}

/**
 * Content types of the files a docs site holds. HTML and JavaScript are deliberately absent: served from
 * the portal's origin they would run there, so they (like any unknown file) are plain downloads.
 */
const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.bmp': 'image/bmp',
  '.pdf': 'application/pdf',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.yaml': 'text/yaml; charset=utf-8',
  '.yml': 'text/yaml; charset=utf-8',
  '.xml': 'text/plain; charset=utf-8',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
};
export const contentTypeOf = (file: string) => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

interface FoundFile {
  /** Relative to docs_dir, `/`-separated. */
  rel: string;
  /** The real file, symbolic links resolved. */
  real: string;
  size: number;
}

const isInside = (parent: string, child: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function buildSiteFromDir(root: string, opts: BuildOptions): Promise<{ site: BuiltSite } | { problem: DocsProblem }> {
  const limits: DocsLimits = { ...DEFAULT_DOCS_LIMITS, ...opts.limits };
  const realRoot = await fs.realpath(root).catch(() => undefined);
  if (!realRoot || !(await fs.stat(realRoot)).isDirectory()) {
    return { problem: { code: 'DOCS_DIR_MISSING', message: `The docs source folder ${path.basename(root)} does not exist or is not a folder.` } };
  }

  const loaded = await loadConfig(realRoot, limits);
  if ('problem' in loaded) return loaded;
  const { config } = loaded;
  const configFile = config.configFile ?? 'mkdocs.yml';
  const docsDirNote = loaded.found ? `docs_dir in ${configFile}` : `the default docs_dir, as there is no mkdocs.yml`;

  const docsPath = path.join(realRoot, config.docsDir);
  const realDocs = await fs.realpath(docsPath).catch(() => undefined);
  const docsStat = realDocs ? await fs.stat(realDocs) : undefined;
  if (!realDocs || !docsStat?.isDirectory()) {
    return {
      problem: {
        code: 'DOCS_DIR_MISSING',
        file: config.docsDir,
        message: `The docs folder "${config.docsDir}" (${docsDirNote}) does not exist. Create it with an index.md, or set docs_dir in ${configFile} to the folder holding the Markdown pages.`,
      },
    };
  }
  if (!isInside(realRoot, realDocs)) {
    return {
      problem: {
        code: 'DOCS_DIR_MISSING',
        file: config.docsDir,
        message: `The docs folder "${config.docsDir}" is a symbolic link to a place outside the repository; Pave does not follow it. Make it a real folder.`,
      },
    };
  }

  const problems: DocsProblem[] = [];
  const shown = (rel: string) => `${config.docsDir}/${rel}`;
  const files = await walk(realRoot, realDocs, problems, shown);

  const pageFiles: FoundFile[] = [];
  const assetFiles: FoundFile[] = [];
  for (const file of files) (/\.md$/i.test(file.rel) ? pageFiles : assetFiles).push(file);

  if (pageFiles.length > limits.maxPages) {
    return {
      problem: {
        code: 'DOCS_TOO_LARGE',
        file: config.docsDir,
        message: `${config.docsDir} holds ${pageFiles.length} Markdown pages, more than the limit of ${limits.maxPages} (docs.limits.maxPages). Split the docs into several sites or raise docs.limits.maxPages.`,
      },
    };
  }

  const pageSet = new Set(pageFiles.map((file) => file.rel));
  const keptPages = pageFiles.filter((file) => {
    const base = path.posix.basename(file.rel);
    if (base === 'README.md' && pageSet.has(path.posix.join(path.posix.dirname(file.rel), 'index.md'))) {
      problems.push(skipped(shown(file.rel), `${shown(file.rel)} was skipped: its folder also has an index.md, which MkDocs uses as the folder's page. Remove one of the two.`));
      return false;
    }
    if (file.size > limits.maxPageBytes) {
      problems.push(skipped(shown(file.rel), `${shown(file.rel)} was skipped: it is ${file.size} bytes, more than the limit of ${limits.maxPageBytes} bytes per page (docs.limits.maxPageBytes). Split the page or raise the limit.`));
      return false;
    }
    return true;
  });
  const keptAssets = assetFiles.filter((file) => {
    if (file.size <= limits.maxAssetBytes) return true;
    problems.push({
      code: 'DOCS_ASSET_SKIPPED',
      file: shown(file.rel),
      message: `${shown(file.rel)} was skipped: it is ${file.size} bytes, more than the limit of ${limits.maxAssetBytes} bytes per file (docs.limits.maxAssetBytes). Make it smaller, host it elsewhere, or raise the limit.`,
    });
    return false;
  });

  const siteBytes = [...keptPages, ...keptAssets].reduce((sum, file) => sum + file.size, 0);
  if (siteBytes > limits.maxSiteBytes) {
    return {
      problem: {
        code: 'DOCS_TOO_LARGE',
        file: config.docsDir,
        message: `${config.docsDir} holds ${siteBytes} bytes of pages and files, more than the limit of ${limits.maxSiteBytes} bytes per site (docs.limits.maxSiteBytes). Remove large files or raise docs.limits.maxSiteBytes.`,
      },
    };
  }

  const pageBytes = await readAll(keptPages);
  const assetBytes = await readAll(keptAssets);

  const sources: { rel: string; text: string }[] = [];
  keptPages.forEach((file, i) => {
    const bytes = pageBytes[i];
    const text = bytes.includes(0) ? undefined : decode(bytes);
    if (text === undefined) {
      problems.push(skipped(shown(file.rel), `${shown(file.rel)} was skipped: it is not UTF-8 text (it looks like a binary file). Save it as UTF-8, or rename it if it is not Markdown.`));
    } else {
      sources.push({ rel: file.rel, text });
    }
  });

  const pagePaths = new Set(sources.map((s) => s.rel));
  const assetPaths = new Set(keptAssets.map((a) => a.rel));
  const pages = sources.map(({ rel, text }) =>
    renderMarkdown(text, { pagePath: rel, sourceFile: shown(rel), pages: pagePaths, assets: assetPaths, pageUrl: opts.pageUrl, assetUrl: opts.assetUrl }),
  );
  for (const page of pages) problems.push(...page.problems);

  const { nav, problems: navProblems } = resolveNav(config, [...pagePaths], new Map(pages.map((p) => [p.path, p.title])));
  problems.push(...navProblems);

  const site: BuiltSite = {
    siteName: config.siteName,
    nav,
    pages,
    assets: keptAssets.map((file, i) => ({ path: file.rel, contentType: contentTypeOf(file.rel), bytes: assetBytes[i] })),
    problems,
  };
  if (config.siteDescription !== undefined) site.siteDescription = config.siteDescription;
  const editUrl = editLinks(config, opts.editBase, pagePaths);
  if (editUrl) site.editUrl = editUrl;
  return { site };
}

const skipped = (file: string, message: string): DocsProblem => ({ code: 'DOCS_PAGE_SKIPPED', file, message });

function decode(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

async function loadConfig(realRoot: string, limits: DocsLimits): Promise<{ config: MkdocsConfig; found: boolean } | { problem: DocsProblem }> {
  for (const name of ['mkdocs.yml', 'mkdocs.yaml']) {
    const real = await fs.realpath(path.join(realRoot, name)).catch(() => undefined);
    if (!real) continue;
    if (!isInside(realRoot, real)) {
      return { problem: { code: 'DOCS_CONFIG_INVALID', file: name, message: `${name} is a symbolic link to a place outside the repository; Pave does not follow it. Make it a real file.` } };
    }
    const stat = await fs.stat(real);
    if (!stat.isFile()) continue;
    if (stat.size > limits.maxPageBytes) {
      return { problem: { code: 'DOCS_CONFIG_INVALID', file: name, message: `${name} is ${stat.size} bytes, more than the limit of ${limits.maxPageBytes} bytes (docs.limits.maxPageBytes).` } };
    }
    const parsed = parseMkdocsConfig(await fs.readFile(real, 'utf8'), name);
    return 'problem' in parsed ? parsed : { config: parsed.config, found: true };
  }
  // TechDocs without mkdocs.yml: the folder's name as the site name, pages in docs/.
  return { config: { siteName: path.basename(realRoot), docsDir: 'docs' }, found: false };
}

/**
 * Every file under docs_dir but dotfiles (and dot folders). A symbolic link is followed only when it stays
 * inside the repository (docs/index.md → ../README.md is common); one that leaves it is reported and skipped.
 */
async function walk(realRoot: string, realDocs: string, problems: DocsProblem[], shown: (rel: string) => string): Promise<FoundFile[]> {
  const files: FoundFile[] = [];
  const visited = new Set<string>([realDocs]);
  const queue: { dir: string; rel: string }[] = [{ dir: realDocs, rel: '' }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { dir, rel: folder } = next;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch((): Dirent[] => []);
    const found = await Promise.all(
      entries
        .filter((entry) => !entry.name.startsWith('.') && (entry.isFile() || entry.isDirectory() || entry.isSymbolicLink()))
        .map(async (entry) => {
          const rel = folder ? `${folder}/${entry.name}` : entry.name;
          const own = path.join(dir, entry.name);
          const real = entry.isSymbolicLink() ? await fs.realpath(own).catch(() => undefined) : own;
          if (!real || !isInside(realRoot, real)) return { rel, outside: Boolean(real) };
          return { rel, real, stat: await fs.stat(real).catch(() => undefined) };
        }),
    );
    for (const item of found) {
      if (!('real' in item) || item.real === undefined) {
        problems.push({
          code: 'DOCS_PAGE_SKIPPED',
          file: shown(item.rel),
          message: `${shown(item.rel)} was skipped: it is a symbolic link ${item.outside ? 'to a place outside the repository' : 'to nothing'}; Pave only follows links that stay inside the repository.`,
        });
      } else if (item.stat?.isDirectory()) {
        if (!visited.has(item.real)) {
          visited.add(item.real);
          queue.push({ dir: item.real, rel: item.rel });
        }
      } else if (item.stat?.isFile()) {
        files.push({ rel: item.rel, real: item.real, size: item.stat.size });
      }
    }
  }
  const byCodePoint = (a: FoundFile, b: FoundFile) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
  return files.sort(byCodePoint);
}

/** Reads files a few dozen at a time: fast, without opening thousands of files at once. */
async function readAll(files: FoundFile[]): Promise<Buffer[]> {
  const out: Buffer[] = new Array(files.length);
  let index = 0;
  const worker = async () => {
    for (let i = index++; i < files.length; i = index++) out[i] = await fs.readFile(files[i].real);
  };
  await Promise.all(Array.from({ length: Math.min(32, files.length) }, worker));
  return out;
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/**
 * Edit links as MkDocs makes them: repo_url joined with edit_uri (which ends in the docs folder), then the
 * page's path. Without them, editBase (the repository folder of mkdocs.yml) + docs_dir + the page. `edit_uri: ''`
 * turns them off.
 */
function editLinks(config: MkdocsConfig, editBase: string | undefined, pages: Set<string>): ((pagePath: string) => string | undefined) | undefined {
  if (config.editUri === '') return undefined;
  let base: string | undefined;
  if (config.editUri !== undefined && (config.repoUrl || isHttpUrl(config.editUri))) {
    const uri = /[?#]/.test(config.editUri) || config.editUri.endsWith('/') ? config.editUri : `${config.editUri}/`;
    if (isHttpUrl(uri)) base = uri;
    else if (/^[?#]/.test(uri)) base = config.repoUrl!.replace(/\/+$/, '') + uri;
    else base = new URL(uri, config.repoUrl!.endsWith('/') ? config.repoUrl! : `${config.repoUrl!}/`).href;
  } else if (editBase && isHttpUrl(editBase)) {
    base = `${editBase.replace(/\/+$/, '')}/${encodePath(config.docsDir)}/`;
  }
  if (!base) return undefined;
  const prefix = base;
  return (pagePath) => (pages.has(pagePath) ? prefix + encodePath(pagePath) : undefined);
}
