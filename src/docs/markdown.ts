/**
 * One docs page from Markdown to safe HTML, with the extensions TechDocs sites use (mkdocs-techdocs-core):
 * tables, highlighted code, admonitions and details, permalinked headings and a table of contents,
 * task lists, footnotes, definition lists and Mermaid diagrams. Links between pages are rewritten to
 * portal URLs; broken ones are reported with their line. The result is sanitized, so raw HTML in a
 * page can never run script in the portal.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import hljs from 'highlight.js';
import markdownIt, { type MarkdownIt, type StateBlock, type Token } from 'markdown-it';
import anchor from 'markdown-it-anchor';
import sanitizeHtml from 'sanitize-html';
import { parseDocument } from 'yaml';
import { indexPageOf, pageTitleFromPath, type DocsProblem } from './mkdocs.ts';

export interface TocEntry {
  level: number;
  id: string;
  text: string;
}

export interface RenderedPage {
  /** Relative to docs_dir, `/`-separated. */
  path: string;
  title: string;
  html: string;
  toc: TocEntry[];
  /** The page as plain text, whitespace collapsed, for the search index. */
  text: string;
  problems: DocsProblem[];
}

export interface RenderContext {
  pagePath: string;
  /** The page's file as problems name it (e.g. `docs/guides/setup.md`); `pagePath` when absent. */
  sourceFile?: string;
  pages: Set<string>;
  assets: Set<string>;
  pageUrl: (pagePath: string) => string;
  assetUrl: (assetPath: string) => string;
}

/** What one render keeps in markdown-it's env: the heading ids given so far. */
type PageEnv = { ids: Set<string> };

interface AdmonitionMeta {
  title: string;
  open: boolean;
}

// These plugins ship no types; their shapes are those documented in their READMEs.
const require = createRequire(import.meta.url);
const taskLists = require('markdown-it-task-lists') as (md: MarkdownIt, options: { enabled: boolean }) => void;
const footnote = require('markdown-it-footnote') as (md: MarkdownIt) => void;
const deflist = require('markdown-it-deflist') as (md: MarkdownIt) => void;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Python-Markdown's toc slug: ASCII-folded, punctuation dropped, lowercase, spaces to `-`; repeats get `_1`, `_2`… */
export function slugify(text: string, used: Set<string>): string {
  let id = text
    .normalize('NFKD')
    .replace(/[^\x00-\x7f]/g, '')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '-');
  while (!id || used.has(id)) {
    const numbered = /^(.*)_(\d+)$/.exec(id);
    id = numbered ? `${numbered[1]}_${Number(numbered[2]) + 1}` : `${id}_1`;
  }
  used.add(id);
  return id;
}

function highlight(code: string, lang: string): string {
  if (!lang || !hljs.getLanguage(lang)) return '';
  const { value } = hljs.highlight(code, { language: lang, ignoreIllegals: true });
  return `<pre><code class="hljs language-${escapeHtml(lang)}">${value}</code></pre>`;
}

/**
 * `!!! type "Title"` (Python-Markdown admonition), `??? type` and `???+ type` (pymdownx.details), followed by
 * a body indented four spaces. `"..."` sets the title, `""` drops it, and without it the type is the title.
 */
const ADMONITION = /^(!!!|\?\?\?\+?) ?([\w-]+(?: +[\w-]+)*)(?: +"(.*?)")? *$/;

function admonitionRule(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const start = state.bMarks[startLine] + state.tShift[startLine];
  const first = state.src.charCodeAt(start);
  if (first !== 0x21 /* ! */ && first !== 0x3f /* ? */) return false;
  const match = ADMONITION.exec(state.src.slice(start, state.eMarks[startLine]));
  if (!match) return false;
  if (silent) return true;

  const bodyIndent = state.sCount[startLine] + 4;
  let last = startLine;
  for (let line = startLine + 1; line < endLine; line++) {
    if (state.isEmpty(line)) continue;
    if (state.sCount[line] < bodyIndent) break;
    last = line;
  }
  const [, marker, classes, title] = match;
  const kind = marker === '!!!' ? 'admonition' : 'details';
  const type = classes.split(' ')[0];
  const open = state.push(`${kind}_open`, kind === 'admonition' ? 'div' : 'details', 1);
  open.block = true;
  open.map = [startLine, last + 1];
  open.markup = marker;
  open.info = classes;
  open.meta = { title: title ?? type.charAt(0).toUpperCase() + type.slice(1).toLowerCase(), open: marker === '???+' } satisfies AdmonitionMeta;

  const saved = { parentType: state.parentType, lineMax: state.lineMax, blkIndent: state.blkIndent };
  state.parentType = 'admonition';
  state.lineMax = last + 1;
  state.blkIndent = bodyIndent;
  state.md.block.tokenize(state, startLine + 1, last + 1);
  Object.assign(state, saved);

  state.push(`${kind}_close`, open.tag, -1).block = true;
  state.line = last + 1;
  return true;
}

function admonitions(md: MarkdownIt): void {
  md.block.ruler.before('fence', 'admonition', admonitionRule, { alt: ['paragraph', 'reference', 'blockquote', 'list'] });
  const meta = (token: Token) => token.meta as unknown as AdmonitionMeta;
  const title = (token: Token, tag: string, cls: string) => (meta(token).title ? `<${tag}${cls}>${escapeHtml(meta(token).title)}</${tag}>\n` : '');
  md.renderer.rules.admonition_open = (tokens, idx) =>
    `<div class="admonition ${escapeHtml(tokens[idx].info)}">\n${title(tokens[idx], 'p', ' class="admonition-title"')}`;
  md.renderer.rules.admonition_close = () => '</div>\n';
  md.renderer.rules.details_open = (tokens, idx) =>
    `<details class="${escapeHtml(tokens[idx].info)}"${meta(tokens[idx]).open ? ' open' : ''}>\n${title(tokens[idx], 'summary', '')}`;
  md.renderer.rules.details_close = () => '</details>\n';
}

/** A ```mermaid fence is left for the browser to draw: its source, escaped, in `<pre class="mermaid">`. */
function mermaid(md: MarkdownIt): void {
  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const lang = tokens[idx].info.trim().split(/\s+/)[0].toLowerCase();
    if (lang === 'mermaid') return `<pre class="mermaid">${escapeHtml(tokens[idx].content)}</pre>\n`;
    return fence(tokens, idx, options, env, self);
  };
}

/** One parser for every page of every build: markdown-it keeps no state between renders but the env. */
const md = markdownIt({ html: true, linkify: true, highlight })
  .use(anchor, {
    slugifyWithState: (text: string, state: { env: PageEnv }) => slugify(text, state.env.ids),
    tabIndex: false,
    permalink: anchor.permalink.linkInsideHeader({ class: 'headerlink', symbol: '¶', space: false, renderAttrs: () => ({ title: 'Permanent link' }) }),
    callback: (token: Token, info: { title: string }) => {
      token.meta = { ...token.meta, text: info.title };
    },
  })
  .use(taskLists, { enabled: false })
  .use(footnote)
  .use(deflist)
  .use(admonitions)
  .use(mermaid);

const SAFE_SCHEMES = ['http', 'https', 'mailto', 'tel'];
const alignedCell = { 'text-align': [/^(left|right|center)$/] };

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'ul', 'ol', 'li', 'a', 'em', 'strong', 'b', 'i', 'u',
    'del', 's', 'ins', 'sub', 'sup', 'small', 'abbr', 'code', 'pre', 'kbd', 'mark', 'span', 'div', 'section', 'img',
    'figure', 'figcaption', 'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td',
    'dl', 'dt', 'dd', 'details', 'summary', 'input',
  ],
  allowedAttributes: {
    '*': ['class', 'id', 'title'],
    a: ['href'],
    img: ['src', 'alt', 'width', 'height'],
    input: ['type', 'disabled', 'checked'],
    details: ['open'],
    ol: ['start'],
    th: ['style', 'align', 'colspan', 'rowspan'],
    td: ['style', 'align', 'colspan', 'rowspan'],
  },
  allowedStyles: { th: alignedCell, td: alignedCell },
  // data: URLs are refused everywhere, images included: a page's pictures are files of the site.
  allowedSchemes: SAFE_SCHEMES,
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
  // Whatever these hold is not text worth keeping (and never markup to keep).
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'iframe', 'object', 'embed', 'template', 'svg', 'math', 'title'],
  transformTags: {
    // The only input a page may hold is a task list's checkbox, and it cannot be ticked.
    input: (_tag, attribs) => ({
      tagName: 'input',
      attribs: { type: 'checkbox', disabled: '', ...(attribs.checked !== undefined ? { checked: '' } : {}), ...(attribs.class ? { class: attribs.class } : {}) },
    }),
  },
};

const INLINE_TAGS = /<\/?(?:a|em|strong|b|i|u|del|s|ins|sub|sup|small|abbr|code|kbd|mark|span)\b[^>]*>/gi;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of sanitized HTML (where `<` and `>` only ever open and close tags), for the search index. */
function plainText(html: string): string {
  return html
    .replace(/<a class="headerlink"[^>]*>[^<]*<\/a>/g, '')
    .replace(/<div class="toc">[\s\S]*?<\/div>|<pre class="mermaid">[^<]*<\/pre>/g, ' ')
    .replace(/<a [^>]*class="footnote-backref"[^>]*>[^<]*<\/a>/g, '')
    .replace(INLINE_TAGS, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? all;
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/** MkDocs' YAML front matter (`---` … `---` at the very top); it is blanked out so line numbers stay true. */
function splitFrontMatter(source: string): { body: string; title?: string } {
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(source);
  if (!match) return { body: source };
  const doc = parseDocument(match[1], { uniqueKeys: false });
  const meta = doc.errors.length === 0 ? doc.toJS({ maxAliasCount: 50 }) : undefined;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return { body: source };
  const blank = '\n'.repeat(match[0].split('\n').length - 1);
  const title = typeof meta.title === 'string' && meta.title.trim() ? meta.title.trim() : undefined;
  return { body: blank + source.slice(match[0].length), title };
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Where a relative link of a page leads: a page (to its portal URL, the anchor kept), a file of the site
 * (to its asset URL), or nowhere (kept as written, and reported). Absolute URLs and anchors are left alone.
 */
function rewriteLink(token: Token, attr: 'href' | 'src', line: number | undefined, ctx: RenderContext, problems: DocsProblem[]): void {
  const value = token.attrGet(attr);
  if (value === null) return;
  const href = String(value);
  if (href === '' || href.startsWith('#') || href.startsWith('/') || SCHEME.test(href)) return;
  const [, rawPath, query = '', hash = ''] = /^([^?#]*)(\?[^#]*)?(#.*)?$/.exec(href)!;
  if (rawPath === '') return;
  const target = safeDecode(rawPath);
  const folderLink = target.endsWith('/') || target === '.' || target === '..';
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(ctx.pagePath), target)).replace(/\/$/, '');
  const inside = resolved !== '..' && !resolved.startsWith('../');
  const folder = resolved === '.' ? '' : resolved;

  if (inside) {
    if (/\.md$/i.test(resolved)) {
      const base = path.posix.basename(resolved);
      const page = ctx.pages.has(resolved)
        ? resolved
        : base === 'index.md' || base === 'README.md'
          ? indexPageOf(path.posix.dirname(resolved).replace(/^\.$/, ''), ctx.pages)
          : undefined;
      if (page) return token.attrSet(attr, ctx.pageUrl(page) + query + hash);
    } else {
      if (!folderLink && ctx.assets.has(resolved)) return token.attrSet(attr, ctx.assetUrl(resolved) + query + hash);
      const index = indexPageOf(folder, ctx.pages);
      if (index) return token.attrSet(attr, ctx.pageUrl(index) + query + hash);
    }
  }
  const what = attr === 'src' ? 'image' : 'link';
  const where = inside ? `"${resolved}", which is not ${/\.md$/i.test(resolved) ? 'a page' : 'a page or file'} of these docs` : `"${resolved}", outside the docs folder`;
  const file = ctx.sourceFile ?? ctx.pagePath;
  problems.push({
    code: 'DOCS_BROKEN_LINK',
    file,
    ...(line !== undefined ? { line } : {}),
    message: `${file}${line !== undefined ? ` line ${line}` : ''}: the ${what} "${href}" points to ${where}. Fix the ${what} or add the ${/\.md$/i.test(resolved) ? 'page' : 'file'}.`,
  });
}

function tocHtml(entries: TocEntry[]): string {
  let html = '';
  const levels: number[] = [];
  for (const entry of entries) {
    if (levels.length === 0 || entry.level > levels[levels.length - 1]) {
      html += '<ul>';
      levels.push(entry.level);
    } else {
      html += '</li>';
      while (levels.length > 1 && entry.level < levels[levels.length - 1]) {
        html += '</ul></li>';
        levels.pop();
      }
    }
    html += `<li><a href="#${escapeHtml(entry.id)}">${escapeHtml(entry.text)}</a>`;
  }
  html += '</li></ul>'.repeat(levels.length);
  return `<div class="toc">${html}</div>\n`;
}

/** Renders one page. Never throws for bad Markdown: what cannot be resolved is reported in `problems`. */
export function renderMarkdown(source: string, ctx: RenderContext): RenderedPage {
  const { body, title: metaTitle } = splitFrontMatter(source);
  const env: PageEnv = { ids: new Set() };
  const tokens = md.parse(body, env);
  const problems: DocsProblem[] = [];
  const toc: TocEntry[] = [];
  let h1: string | undefined;
  const tocMarkers: number[] = [];

  // Inline tokens of table cells carry no line of their own: the row's is used.
  let lastMap: [number, number] | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.map) lastMap = token.map;
    if (token.type === 'heading_open') {
      const text = String((token.meta as { text?: string } | null)?.text ?? tokens[i + 1].content).trim();
      if (token.tag === 'h1' && token.level === 0 && h1 === undefined) h1 = text;
      if (token.tag === 'h2' || token.tag === 'h3') toc.push({ level: Number(token.tag[1]), id: String(token.attrGet('id') ?? ''), text });
    } else if (token.type === 'inline' && token.children) {
      if (tokens[i - 1]?.type === 'paragraph_open' && token.content.trim() === '[TOC]') tocMarkers.push(i);
      let line = lastMap ? lastMap[0] + 1 : undefined;
      for (const child of token.children) {
        if (child.type === 'softbreak' || child.type === 'hardbreak') {
          if (line !== undefined) line++;
        } else if (child.type === 'link_open') {
          rewriteLink(child, 'href', line, ctx, problems);
        } else if (child.type === 'image') {
          rewriteLink(child, 'src', line, ctx, problems);
        }
      }
    }
  }
  if (tocMarkers.length > 0) {
    const list = tocHtml(toc);
    // paragraph_open, inline, paragraph_close → one html_block holding the list.
    for (const i of tocMarkers.reverse()) {
      Object.assign(tokens[i - 1], { type: 'html_block', tag: '', nesting: 0, content: list });
      tokens.splice(i, 2);
    }
  }

  const html = sanitizeHtml(md.renderer.render(tokens, md.options, env), SANITIZE);
  return {
    path: ctx.pagePath,
    title: metaTitle ?? (h1 || pageTitleFromPath(ctx.pagePath)),
    html,
    toc,
    text: plainText(html),
    problems,
  };
}
