/**
 * mkdocs.yml: the configuration of a docs site written as code (what TechDocs builds with MkDocs).
 * Parses the file keeping positions, and resolves the navigation against the pages that exist,
 * deriving it from the folder tree the way MkDocs does when `nav` is absent.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import type { CollectionTag, ScalarTag } from 'yaml';

/** A build problem a developer can act on: it names the file, the place and the fix. */
export interface DocsProblem {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

/** One entry of the navigation: a page (`path`, relative to docs_dir), an external link (`url`) or a section (`children`). */
export interface NavNode {
  title: string;
  path?: string;
  url?: string;
  children?: NavNode[];
}

export interface MkdocsConfig {
  siteName: string;
  siteDescription?: string;
  /** Relative to the folder of mkdocs.yml, `/`-separated, never escaping it. */
  docsDir: string;
  nav?: NavNode[];
  /** Where each page path of `nav` is written in mkdocs.yml (the first time it appears). */
  navPositions?: Map<string, { line: number; column: number }>;
  repoUrl?: string;
  /** As MkDocs: relative to repoUrl or absolute; `''` turns edit links off. */
  editUri?: string;
  /** The name problems give the configuration file (mkdocs.yml unless told otherwise). */
  configFile?: string;
}

type Position = { line: number; column: number };

/**
 * `!ENV [NAME, default]` and `!ENV NAME`: MkDocs reads the build machine's environment here. Pave builds
 * docs from other people's repositories, so it never reads its own environment: the default is taken.
 */
const envSeqTag: CollectionTag = {
  tag: '!ENV',
  collection: 'seq',
  resolve: (seq) => {
    const items = isSeq(seq) ? seq.items : [];
    const last = items.length > 1 ? items[items.length - 1] : undefined;
    return isScalar(last) ? last.value : null;
  },
};
const envScalarTag: ScalarTag = { tag: '!ENV', resolve: () => null };

/** Parses mkdocs.yml. Unknown tags (`!!python/name:…`, `!relative`) are read as plain values, as TechDocs users expect. */
export function parseMkdocsConfig(text: string, file = 'mkdocs.yml'): { config: MkdocsConfig } | { problem: DocsProblem } {
  const lineCounter = new LineCounter();
  // PyYAML lets a later key win over an earlier one, so duplicates are not an error here either.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, customTags: [envSeqTag, envScalarTag] });
  const at = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problem = (message: string, pos?: Position): { problem: DocsProblem } => ({
    problem: { code: 'DOCS_CONFIG_INVALID', message: `${file}${pos ? ` line ${pos.line}, column ${pos.column}` : ''}: ${message}`, file, ...pos },
  });

  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    return problem(`${error.message.split('\n')[0].replace(/\.$/, '')}. Fix the YAML syntax there.`, at(error.pos[0]));
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    return problem('the file must be a YAML mapping of settings (site_name: …, nav: …).', at(doc.contents.range?.[0]));
  }
  const root = doc.contents;
  const get = (key: string): Pair<unknown, unknown> | undefined => (root ? lastPair(root, key) : undefined);
  const posOf = (pair: Pair<unknown, unknown> | undefined) => at(valueNode(pair)?.range?.[0] ?? (pair?.key as Node | undefined)?.range?.[0]);

  const siteNamePair = get('site_name');
  const siteName = scalarValue(siteNamePair);
  if (siteName === undefined || siteName === null || siteName === '') {
    return problem('site_name is missing: add a line such as `site_name: My Service` (the title of the docs site).', posOf(siteNamePair));
  }
  if (typeof siteName !== 'string' && typeof siteName !== 'number') {
    return problem(`site_name must be text, got ${describe(siteName)}.`, posOf(siteNamePair));
  }

  const optionalText = (key: string): { value?: string } | { problem: DocsProblem } => {
    const pair = get(key);
    const value = scalarValue(pair);
    if (value === undefined || value === null) return {};
    if (typeof value !== 'string') return problem(`${key} must be text, got ${describe(value)}.`, posOf(pair));
    return { value };
  };

  const description = optionalText('site_description');
  if ('problem' in description) return description;

  const docsDirPair = get('docs_dir');
  const docsDirValue = scalarValue(docsDirPair) ?? 'docs';
  if (typeof docsDirValue !== 'string' || docsDirValue.trim() === '') {
    return problem(`docs_dir must be the name of a folder next to ${file}, got ${describe(docsDirValue)}.`, posOf(docsDirPair));
  }
  const docsDir = normalizeDocsDir(docsDirValue);
  if (!docsDir.ok) return problem(`docs_dir "${docsDirValue}" ${docsDir.reason}. Set it to a folder inside the repository, next to ${file} (usually docs).`, posOf(docsDirPair));

  const repoUrl = optionalText('repo_url');
  if ('problem' in repoUrl) return repoUrl;
  if (repoUrl.value !== undefined && !isHttpUrl(repoUrl.value)) {
    return problem(`repo_url "${repoUrl.value}" is not an http(s) URL. Set it to the address of the repository, e.g. https://github.com/acme/payments.`, posOf(get('repo_url')));
  }
  const editUri = optionalText('edit_uri');
  if ('problem' in editUri) return editUri;
  if (editUri.value && /^[a-z][a-z0-9+.-]*:/i.test(editUri.value) && !isHttpUrl(editUri.value)) {
    return problem(`edit_uri "${editUri.value}" must be a path relative to repo_url or an http(s) URL.`, posOf(get('edit_uri')));
  }

  const config: MkdocsConfig = { siteName: String(siteName).trim(), docsDir: docsDir.dir, configFile: file };
  if (description.value !== undefined) config.siteDescription = description.value;
  if (repoUrl.value !== undefined) config.repoUrl = repoUrl.value;
  if (editUri.value !== undefined) config.editUri = editUri.value;

  const navPair = get('nav');
  const navNode = valueNode(navPair);
  if (navNode && !(isScalar(navNode) && navNode.value === null)) {
    if (!isSeq(navNode)) return problem('nav must be a list of pages (- page.md, - Title: page.md, - Section: [ … ]).', posOf(navPair));
    const positions = new Map<string, Position>();
    const nav = parseNavItems(navNode.items, positions, at);
    if ('problem' in nav) return problem(nav.problem.message, nav.problem.pos);
    config.nav = nav.nodes;
    config.navPositions = positions;
  }
  return { config };
}

function parseNavItems(
  items: unknown[],
  positions: Map<string, Position>,
  at: (offset: number | undefined) => Position | undefined,
): { nodes: NavNode[] } | { problem: { message: string; pos?: Position } } {
  const nodes: NavNode[] = [];
  for (const item of items) {
    const itemPos = at((item as Node | null)?.range?.[0]);
    if (isScalar(item) && typeof item.value === 'string') {
      nodes.push(navTarget('', item.value, itemPos, positions));
      continue;
    }
    if (isMap(item) && item.items.length === 1) {
      const pair = item.items[0];
      const title = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof title !== 'string' && typeof title !== 'number') {
        return { problem: { message: 'a nav title must be text.', pos: itemPos } };
      }
      const value = pair.value as Node | null;
      const valuePos = at(value?.range?.[0]) ?? itemPos;
      if (isScalar(value) && typeof value.value === 'string') {
        nodes.push(navTarget(String(title), value.value, valuePos, positions));
        continue;
      }
      if (isSeq(value)) {
        const children = parseNavItems(value.items, positions, at);
        if ('problem' in children) return children;
        nodes.push({ title: String(title), children: children.nodes });
        continue;
      }
      return { problem: { message: `the nav entry "${title}" must be followed by a page path, a URL or a list of entries.`, pos: valuePos } };
    }
    return {
      problem: {
        message: `a nav entry must be one of \`- page.md\`, \`- Title: page.md\`, \`- Title: https://…\` or \`- Section:\` followed by a list of entries; found ${foundNavItem(item)}.`,
        pos: itemPos,
      },
    };
  }
  return { nodes };
}

function foundNavItem(item: unknown): string {
  if (isMap(item)) return `a mapping with ${item.items.length} keys (${item.items.map((p) => String(isScalar(p.key) ? p.key.value : '?')).join(', ')})`;
  if (isSeq(item)) return 'a list';
  return isScalar(item) ? `the value ${JSON.stringify(item.value)}` : 'nothing';
}

function navTarget(title: string, target: string, pos: Position | undefined, positions: Map<string, Position>): NavNode {
  if (isLinkTarget(target)) return { title: title || target, url: target };
  const page = normalizePagePath(target);
  if (pos && !positions.has(page)) positions.set(page, pos);
  return { title, path: page };
}

/** A nav target that is a URL or an absolute path is a link; anything else names a page under docs_dir. */
const isLinkTarget = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/') || target.startsWith('#');
const SAFE_NAV_URL = /^(https?:|mailto:|\/|#)/i;

/** `./guides\\setup.md` → `guides/setup.md`. */
export function normalizePagePath(target: string): string {
  const normalized = path.posix.normalize(target.trim().replace(/\\/g, '/'));
  return normalized === '.' ? '' : normalized.replace(/^\.\//, '').replace(/\/$/, '');
}

function normalizeDocsDir(value: string): { ok: true; dir: string } | { ok: false; reason: string } {
  const raw = value.trim().replace(/\\/g, '/');
  if (raw.startsWith('/') || /^[a-z]:/i.test(raw)) return { ok: false, reason: 'is an absolute path' };
  const dir = path.posix.normalize(raw).replace(/\/$/, '');
  if (dir === '..' || dir.startsWith('../')) return { ok: false, reason: 'leads outside the folder of the configuration' };
  if (dir === '.' || dir === '') return { ok: false, reason: 'is the folder of the configuration itself (MkDocs does not allow this)' };
  return { ok: true, dir };
}

function lastPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  let found: Pair<unknown, unknown> | undefined;
  for (const pair of map.items) if (isScalar(pair.key) && pair.key.value === key) found = pair;
  return found;
}

const valueNode = (pair: Pair<unknown, unknown> | undefined): Node | undefined => (pair?.value ?? undefined) as Node | undefined;

function scalarValue(pair: Pair<unknown, unknown> | undefined): unknown {
  const node = valueNode(pair);
  if (node === undefined) return undefined;
  return isScalar(node) ? node.value : node;
}

function describe(value: unknown): string {
  if (isSeq(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  return JSON.stringify(value) ?? String(value);
}

export const isHttpUrl = (value: string) => /^https?:\/\/[^\s/]+/i.test(value);

/** MkDocs' title for a page without an H1 or a title in its front matter. */
export function pageTitleFromPath(pagePath: string): string {
  const parts = pagePath.split('/');
  const stem = parts[parts.length - 1].replace(/\.md$/i, '');
  if (/^(index|readme)$/i.test(stem)) return parts.length === 1 ? 'Home' : titleFromName(parts[parts.length - 2]);
  return titleFromName(stem);
}

/** `getting_started` → `Getting started`; a name that has capitals is kept as written. */
export function titleFromName(name: string): string {
  const title = name.replace(/[-_]/g, ' ');
  return title.toLowerCase() === title ? title.charAt(0).toUpperCase() + title.slice(1) : title;
}

/**
 * The navigation shown for a site: the configured nav checked against the pages that exist, or, without
 * nav, the folder tree as MkDocs orders it (the index page first, then pages, then folders as sections).
 */
export function resolveNav(config: MkdocsConfig, pagePaths: string[], titles: Map<string, string>): { nav: NavNode[]; problems: DocsProblem[] } {
  const pages = new Set(pagePaths);
  const titleOf = (page: string) => titles.get(page) || pageTitleFromPath(page);
  if (!config.nav) return { nav: deriveNav(pagePaths, titleOf), problems: [] };

  const problems: DocsProblem[] = [];
  const file = config.configFile ?? 'mkdocs.yml';
  const byLowerCase = new Map(pagePaths.map((p) => [p.toLowerCase(), p]));
  const resolve = (nodes: NavNode[]): NavNode[] => {
    const out: NavNode[] = [];
    for (const node of nodes) {
      if (node.children) {
        const children = resolve(node.children);
        if (children.length > 0) out.push({ title: node.title, children });
      } else if (node.url !== undefined) {
        if (SAFE_NAV_URL.test(node.url)) out.push({ title: node.title, url: node.url });
        else problems.push({ code: 'DOCS_NAV_BAD_LINK', file, message: `${file}: the nav link "${node.title}" points to "${node.url}"; only http(s), mailto and absolute paths are allowed in nav, so it is left out.` });
      } else if (node.path !== undefined) {
        if (pages.has(node.path)) {
          out.push({ title: node.title || titleOf(node.path), path: node.path });
          continue;
        }
        const pos = config.navPositions?.get(node.path);
        const similar = byLowerCase.get(node.path.toLowerCase()) ?? pagePaths.find((p) => path.posix.basename(p) === path.posix.basename(node.path!));
        problems.push({
          code: 'DOCS_NAV_MISSING_PAGE',
          file,
          ...pos,
          message:
            `${file}${pos ? ` line ${pos.line}, column ${pos.column}` : ''}: the nav entry ${node.title ? `"${node.title}" ` : ''}points to "${node.path}", ` +
            `which is not a page in ${config.docsDir}/. ${similar ? `Did you mean "${similar}"? ` : ''}Create ${config.docsDir}/${node.path} or fix the path in nav.`,
        });
      }
    }
    return out;
  };
  return { nav: resolve(config.nav), problems };
}

interface Folder {
  pages: string[];
  folders: Map<string, Folder>;
}

function deriveNav(pagePaths: string[], titleOf: (page: string) => string): NavNode[] {
  const root: Folder = { pages: [], folders: new Map() };
  for (const page of pagePaths) {
    const parts = page.split('/');
    let folder = root;
    for (const part of parts.slice(0, -1)) {
      let next = folder.folders.get(part);
      if (!next) folder.folders.set(part, (next = { pages: [], folders: new Map() }));
      folder = next;
    }
    folder.pages.push(page);
  }
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const build = (folder: Folder): NavNode[] => {
    const names = new Set(folder.pages.map((p) => path.posix.basename(p)));
    const indexName = names.has('index.md') ? 'index.md' : names.has('README.md') ? 'README.md' : undefined;
    const isIndex = (p: string) => path.posix.basename(p) === indexName;
    const pages = [...folder.pages].sort((a, b) => Number(isIndex(b)) - Number(isIndex(a)) || byCodePoint(a, b));
    const nodes: NavNode[] = pages.map((p) => ({ title: titleOf(p), path: p }));
    for (const name of [...folder.folders.keys()].sort(byCodePoint)) {
      const children = build(folder.folders.get(name)!);
      if (children.length > 0) nodes.push({ title: titleFromName(name), children });
    }
    return nodes;
  };
  return build(root);
}

/** The page a folder link shows: its index.md, else its README.md (as MkDocs). */
export function indexPageOf(folder: string, pages: Set<string>): string | undefined {
  for (const name of ['index.md', 'README.md']) {
    const candidate = folder ? `${folder}/${name}` : name;
    if (pages.has(candidate)) return candidate;
  }
  return undefined;
}
