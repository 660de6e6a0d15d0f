import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderMarkdown, slugify, type RenderContext } from './markdown.ts';
import { parseMkdocsConfig, resolveNav, type DocsProblem, type MkdocsConfig, type NavNode } from './mkdocs.ts';
import { buildSiteFromDir, type BuiltSite } from './site.ts';

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

const pageUrl = (p: string) => `/docs/p/${p.replace(/\.md$/, '')}`;
const assetUrl = (p: string) => `/docs/a/${p}`;

const context = (over: Partial<RenderContext> = {}): RenderContext => ({
  pagePath: 'guides/setup.md',
  pages: new Set(['index.md', 'guides/setup.md', 'guides/index.md', 'guides/other.md', 'guides/my page.md', 'ref/api.md', 'ref/README.md']),
  assets: new Set(['img/logo.png', 'guides/diagram.svg', 'files/report.pdf']),
  pageUrl,
  assetUrl,
  ...over,
});
const render = (source: string, over: Partial<RenderContext> = {}) => renderMarkdown(source, context(over));

/** Line and column (1-based) where `needle` is first written in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

describe('Markdown extensions', () => {
  const cases: { name: string; source: string; has: string[]; hasNot?: string[] }[] = [
    {
      name: 'GFM table with alignment',
      source: '| Left | Right |\n|:-----|------:|\n| a | 1 |',
      has: ['<table>', '<th style="text-align:left">Left</th>', '<td style="text-align:right">1</td>'],
    },
    {
      name: 'fenced code highlighted on the server',
      source: '```ts\nconst answer = 42;\n```',
      has: ['<pre><code class="hljs language-ts">', '<span class="hljs-keyword">const</span>'],
    },
    {
      name: 'fenced code in an unknown language is escaped, not highlighted',
      source: '```nosuchlang\n<b>bold?</b>\n```',
      has: ['<code class="language-nosuchlang">&lt;b&gt;bold?&lt;/b&gt;'],
      hasNot: ['hljs', '<b>'],
    },
    {
      name: 'admonition with a title',
      source: '!!! warning "Mind the gap"\n    Body *here*.\n\n    Second paragraph.',
      has: ['<div class="admonition warning">\n<p class="admonition-title">Mind the gap</p>\n<p>Body <em>here</em>.</p>\n<p>Second paragraph.</p>\n</div>'],
    },
    {
      name: 'admonition titled by its type',
      source: '!!! note\n    Text',
      has: ['<div class="admonition note">\n<p class="admonition-title">Note</p>\n<p>Text</p>\n</div>'],
    },
    {
      name: 'admonition without a title',
      source: '!!! note ""\n    Text',
      has: ['<div class="admonition note">\n<p>Text</p>\n</div>'],
      hasNot: ['admonition-title'],
    },
    {
      name: 'admonition with several classes, a list and code inside, ending at the first unindented line',
      source: '!!! danger highlight\n    - one\n    - two\n\n    ```py\n    x = 1\n    ```\n\nOutside.',
      has: ['<div class="admonition danger highlight">\n<p class="admonition-title">Danger</p>\n<ul>', '<code class="hljs language-py">', '</div>\n<p>Outside.</p>'],
    },
    {
      name: 'collapsed details (pymdownx.details)',
      source: '??? tip "More about it"\n    Hidden until opened.',
      has: ['<details class="tip">\n<summary>More about it</summary>\n<p>Hidden until opened.</p>\n</details>'],
    },
    {
      name: 'open details',
      source: '???+ info\n    Shown.',
      has: ['<details class="info" open>\n<summary>Info</summary>\n<p>Shown.</p>\n</details>'],
    },
    {
      name: 'heading anchors with a permalink',
      source: '## Hello, World!',
      has: ['<h2 id="hello-world">Hello, World!<a class="headerlink" href="#hello-world" title="Permanent link">¶</a></h2>'],
    },
    {
      name: 'task list with disabled checkboxes',
      source: '- [ ] to do\n- [x] done',
      has: [
        '<li class="task-list-item"><input type="checkbox" disabled class="task-list-item-checkbox" /> to do</li>',
        '<input type="checkbox" disabled checked class="task-list-item-checkbox" /> done',
      ],
    },
    {
      name: 'mermaid fence left for the browser, escaped and not highlighted',
      source: '```mermaid\ngraph TD; A-->B\n```',
      has: ['<pre class="mermaid">graph TD; A--&gt;B\n</pre>'],
      hasNot: ['hljs'],
    },
    {
      name: 'footnote',
      source: 'Claim[^1].\n\n[^1]: The source.',
      has: ['<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup>', '<li id="fn1" class="footnote-item"><p>The source.'],
    },
    {
      name: 'definition list',
      source: 'Term\n: Its definition',
      has: ['<dl>\n<dt>Term</dt>\n<dd>Its definition</dd>\n</dl>'],
    },
    {
      name: 'bare URLs become links (as pymdownx.magiclink)',
      source: 'See https://example.com/x.',
      has: ['<a href="https://example.com/x">https://example.com/x</a>'],
    },
    {
      name: 'safe raw HTML is kept',
      source: 'Press <kbd>Ctrl</kbd> and <mark>look</mark>.\n\n<details><summary>More</summary>Inside</details>',
      has: ['<kbd>Ctrl</kbd>', '<mark>look</mark>', '<details><summary>More</summary>Inside</details>'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { html, problems } = render(c.source);
      for (const s of c.has) assert.ok(html.includes(s), `expected ${JSON.stringify(s)} in:\n${html}`);
      for (const s of c.hasNot ?? []) assert.ok(!html.includes(s), `did not expect ${JSON.stringify(s)} in:\n${html}`);
      assert.deepEqual(problems, []);
    });
  }
});

describe('headings, table of contents and title', () => {
  test('slugs follow Python-Markdown, with _1, _2 for repeats', () => {
    const cases: [string[], string[]][] = [
      [['Hello, World!'], ['hello-world']],
      [['Café au lait'], ['cafe-au-lait']],
      [['  Spaces   and -- dashes '], ['spaces-and-dashes']],
      [['snake_case name'], ['snake_case-name']],
      [['Setup', 'Setup', 'setup'], ['setup', 'setup_1', 'setup_2']],
      [['???'], ['_1']],
    ];
    for (const [titles, expected] of cases) {
      const used = new Set<string>();
      assert.deepEqual(titles.map((t) => slugify(t, used)), expected, `slugs of ${JSON.stringify(titles)}`);
    }
  });

  test('toc lists h2 and h3, and [TOC] is replaced by it', () => {
    const page = render('# Guide\n\n[TOC]\n\n## Install\n\n### On `Linux`\n\n#### Too deep\n\n## Install\n\n## Use it\n');
    assert.equal(page.title, 'Guide');
    assert.deepEqual(page.toc, [
      { level: 2, id: 'install', text: 'Install' },
      { level: 3, id: 'on-linux', text: 'On Linux' },
      { level: 2, id: 'install_1', text: 'Install' },
      { level: 2, id: 'use-it', text: 'Use it' },
    ]);
    const toc = '<div class="toc"><ul><li><a href="#install">Install</a><ul><li><a href="#on-linux">On Linux</a></li></ul></li>'
      + '<li><a href="#install_1">Install</a></li><li><a href="#use-it">Use it</a></li></ul></div>';
    assert.ok(page.html.includes(toc), `expected the toc list in:\n${page.html}`);
    assert.ok(!page.html.includes('[TOC]'), 'the marker is gone');
    assert.ok(page.html.includes('<h4 id="too-deep">'), 'deeper headings still get anchors');
  });

  test('the title comes from front matter, else the first H1, else the file name', () => {
    const cases: [string, string, string][] = [
      ['---\ntitle: From front matter\n---\n# Heading\n', 'guides/setup.md', 'From front matter'],
      ['Intro\n\n# First *H1*\n\n# Second\n', 'guides/setup.md', 'First H1'],
      ['No heading here.', 'guides/getting_started.md', 'Getting started'],
      ['No heading here.', 'guides/API-notes.md', 'API notes'],
      ['No heading here.', 'index.md', 'Home'],
      ['No heading here.', 'guides/index.md', 'Guides'],
      ['No heading here.', 'run-books/README.md', 'Run books'],
    ];
    for (const [source, pagePath, title] of cases) assert.equal(render(source, { pagePath }).title, title, `title of ${pagePath} from ${JSON.stringify(source)}`);
  });

  test('front matter is not rendered and line numbers stay true', () => {
    const page = render('---\ntitle: T\ntags: [a]\n---\n\n[gone](gone.md)\n');
    assert.ok(!page.html.includes('tags'), `front matter hidden:\n${page.html}`);
    assert.equal(page.problems[0]?.line, 6);
  });

  test('text is the plain text of the page for the search index', () => {
    const page = render('# Title\n\nSome **bold** text &amp; a [link](other.md).\n\n```js\nconst a = 1 < 2;\n```\n\n```mermaid\ngraph TD\n```\n\nNote[^1]\n\n[^1]: Foot.');
    assert.equal(page.text, 'Title Some bold text & a link. const a = 1 < 2; Note[1] Foot.');
  });
});

describe('links', () => {
  const cases: { href: string; expected: string }[] = [
    { href: 'other.md', expected: '/docs/p/guides/other' },
    { href: './other.md#step-2', expected: '/docs/p/guides/other#step-2' },
    { href: 'other.md?tab=1#x', expected: '/docs/p/guides/other?tab=1#x' },
    { href: '../ref/api.md', expected: '/docs/p/ref/api' },
    { href: '../index.md', expected: '/docs/p/index' },
    { href: 'index.md#top', expected: '/docs/p/guides/index#top' },
    { href: '../ref/index.md', expected: '/docs/p/ref/README' },
    { href: '../ref/README.md', expected: '/docs/p/ref/README' },
    { href: '../ref/', expected: '/docs/p/ref/README' },
    { href: '../', expected: '/docs/p/index' },
    { href: 'my%20page.md', expected: '/docs/p/guides/my page' },
    { href: '../files/report.pdf', expected: '/docs/a/files/report.pdf' },
    { href: 'diagram.svg', expected: '/docs/a/guides/diagram.svg' },
    { href: '#local', expected: '#local' },
    { href: 'https://example.com/other.md', expected: 'https://example.com/other.md' },
    { href: 'mailto:team@example.com', expected: 'mailto:team@example.com' },
    { href: '/catalog/default/component/payments', expected: '/catalog/default/component/payments' },
  ];
  for (const { href, expected } of cases) {
    test(`[x](${href}) → ${expected}`, () => {
      const { html, problems } = render(`[x](${href})`);
      assert.ok(html.includes(`<a href="${expected}">x</a>`), `expected href ${expected} in:\n${html}`);
      assert.deepEqual(problems, []);
    });
  }

  test('images point to the asset URL', () => {
    const { html } = render('![The logo](../img/logo.png "Logo")');
    assert.ok(html.includes('<img src="/docs/a/img/logo.png" alt="The logo" title="Logo" />'), `image in:\n${html}`);
  });

  test('broken links are kept and reported with the page, the line and the target', () => {
    const source = '# Setup\n\nIntro line\ncontinues [gone](missing.md) here\n\n![x](../img/none.png)\n\n| a |\n|---|\n| [t](../nope.md) |\n\n[out](../../../etc/passwd)\n';
    const page = render(source, { sourceFile: 'docs/guides/setup.md' });
    assert.ok(page.html.includes('<a href="missing.md">gone</a>'), `the broken link is kept:\n${page.html}`);
    assert.deepEqual(
      page.problems.map((p) => [p.code, p.file, p.line]),
      [
        ['DOCS_BROKEN_LINK', 'docs/guides/setup.md', 4],
        ['DOCS_BROKEN_LINK', 'docs/guides/setup.md', 6],
        ['DOCS_BROKEN_LINK', 'docs/guides/setup.md', 10],
        ['DOCS_BROKEN_LINK', 'docs/guides/setup.md', 12],
      ],
    );
    assert.match(page.problems[0].message, /^docs\/guides\/setup\.md line 4: the link "missing\.md" points to "guides\/missing\.md", which is not a page/);
    assert.match(page.problems[1].message, /the image "\.\.\/img\/none\.png"/);
    assert.match(page.problems[3].message, /outside the docs folder/);
  });
});

describe('sanitization: injected script is inert', () => {
  /** What in sanitized HTML could run or restyle: every `<` left in it opens a real tag, so each tag is checked. */
  function live(html: string): string[] {
    const found: string[] = [];
    for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
      if (/^<(script|iframe|svg|style|object|embed|form|math|link|meta|base)\b/i.test(tag)) found.push(tag);
      if (/\son[a-z]+\s*=/i.test(tag)) found.push(tag);
      if (/\s(href|src)\s*=\s*"\s*(javascript|vbscript|data):/i.test(tag)) found.push(tag);
      if (/\sstyle\s*=\s*"(?!text-align:(left|right|center)")/i.test(tag)) found.push(tag);
    }
    return found;
  }
  const cases: [string, string][] = [
    ['script tag', '<script>alert(1)</script>'],
    ['img onerror', '<img src=x onerror="alert(1)">'],
    ['markdown javascript: link', '[x](javascript:alert(1))'],
    ['markdown javascript: link in angle brackets', '[x](<javascript:alert(1)>)'],
    ['mixed-case javascript: href', '<a href="JaVaScRiPt:alert(1)">x</a>'],
    ['entity-obfuscated javascript: href', '<a href="jav&#x09;ascript:alert(1)">x</a>'],
    ['vbscript: href', '<a href="vbscript:msgbox(1)">x</a>'],
    ['svg onload', '<svg onload="alert(1)"><circle r="1"/></svg>'],
    ['iframe', '<iframe src="https://evil.example"></iframe>'],
    ['object and embed', '<object data="x.swf"></object><embed src="x.swf">'],
    ['style tag and style attribute', '<style>body{display:none}</style><div style="position:fixed;inset:0">x</div>'],
    ['event handler on an allowed tag', '<div onclick="alert(1)" onmouseover="alert(2)">x</div>'],
    ['data: image in markdown', '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
    ['data: image in HTML', '<img src="data:image/png;base64,AAAA">'],
    ['form with a text input', '<form action="https://evil.example"><input type="text" name="q"></form>'],
    ['HTML inside an admonition', '!!! note "<img src=x onerror=alert(1)>"\n    <script>alert(1)</script> <a href="javascript:alert(1)">x</a>'],
    ['HTML inside details', '??? note\n    <iframe src="https://evil.example"></iframe><svg><script>alert(1)</script></svg>'],
    ['script in a table cell', '| a |\n|---|\n| <script>alert(1)</script> |'],
    ['math with a link', '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>'],
  ];
  for (const [name, source] of cases) {
    test(name, () => {
      const { html } = render(source);
      assert.deepEqual(live(html), [], `${name} left something live:\n${html}`);
    });
  }

  test('an input can only be a disabled checkbox', () => {
    const { html } = render('<input type="text" value="x" checked>');
    assert.ok(html.includes('<input type="checkbox" disabled checked />'), `input in:\n${html}`);
  });
});

describe('mkdocs.yml', () => {
  test('a TechDocs mkdocs.yml with Python tags, !ENV and every nav form', () => {
    const text = fixture('mkdocs-techdocs-core.yml');
    const parsed = parseMkdocsConfig(text);
    assert.ok('config' in parsed, `parsed: ${JSON.stringify(parsed)}`);
    const { config } = parsed;
    assert.equal(config.siteName, 'Payments service', '!ENV takes its default');
    assert.equal(config.siteDescription, 'How the payments service works and how to run it');
    assert.equal(config.docsDir, 'docs');
    assert.equal(config.repoUrl, 'https://github.com/acme/payments');
    assert.equal(config.editUri, 'edit/main/docs/');
    assert.deepEqual(config.nav, [
      { title: '', path: 'index.md' },
      { title: 'Getting started', path: 'guides/setup.md' },
      {
        title: 'Reference',
        children: [
          { title: '', path: 'reference/api.md' },
          { title: 'Changelog', url: 'https://github.com/acme/payments/releases' },
          { title: 'Internals', children: [{ title: '', path: 'reference/internals/queue.md' }] },
        ],
      },
    ]);
    assert.deepEqual(config.navPositions?.get('guides/setup.md'), positionOf(text, 'guides/setup.md'));
    assert.deepEqual(config.navPositions?.get('reference/internals/queue.md'), positionOf(text, './reference/internals/queue.md'));
  });

  const problems: { name: string; text: string; line?: number; column?: number; mentions: RegExp }[] = [
    { name: 'YAML syntax error', text: 'site_name: x\nnav:\n  - a: [b\n  - c\n', line: 4, column: 3, mentions: /line 4, column 3/ },
    { name: 'tab-indented YAML', text: 'site_name: x\nnav:\n\t- index.md\n', line: 3, mentions: /line 3/ },
    { name: 'missing site_name', text: 'docs_dir: docs\n', mentions: /site_name is missing/ },
    { name: 'empty file', text: '', mentions: /site_name is missing/ },
    { name: 'not a mapping', text: '- a\n- b\n', line: 1, column: 1, mentions: /mapping/ },
    { name: 'site_name is a list', text: 'site_name: [a]\n', line: 1, column: 12, mentions: /site_name must be text/ },
    { name: 'absolute docs_dir', text: 'site_name: x\ndocs_dir: /etc\n', line: 2, column: 11, mentions: /absolute path/ },
    { name: 'docs_dir leaving the repository', text: 'site_name: x\ndocs_dir: docs/../../secrets\n', line: 2, mentions: /outside/ },
    { name: 'docs_dir is the config folder', text: 'site_name: x\ndocs_dir: .\n', line: 2, mentions: /folder of the configuration itself/ },
    { name: 'repo_url not http(s)', text: 'site_name: x\nrepo_url: javascript:alert(1)\n', line: 2, mentions: /http\(s\) URL/ },
    { name: 'nav entry with two keys', text: 'site_name: x\nnav:\n  - A: a.md\n    B: b.md\n', line: 3, column: 5, mentions: /a nav entry must be/ },
    { name: 'nav is not a list', text: 'site_name: x\nnav: index.md\n', line: 2, mentions: /nav must be a list/ },
  ];
  for (const c of problems) {
    test(`problem: ${c.name}`, () => {
      const parsed = parseMkdocsConfig(c.text);
      assert.ok('problem' in parsed, `expected a problem, got ${JSON.stringify(parsed)}`);
      assert.equal(parsed.problem.code, 'DOCS_CONFIG_INVALID');
      assert.equal(parsed.problem.file, 'mkdocs.yml');
      if (c.line !== undefined) assert.equal(parsed.problem.line, c.line, parsed.problem.message);
      if (c.column !== undefined) assert.equal(parsed.problem.column, c.column, parsed.problem.message);
      assert.match(parsed.problem.message, c.mentions);
    });
  }

  test('docs_dir defaults to docs and is normalized', () => {
    const cases: [string, string][] = [
      ['site_name: x\n', 'docs'],
      ['site_name: x\ndocs_dir: docs/\n', 'docs'],
      ['site_name: x\ndocs_dir: ./site-docs\n', 'site-docs'],
      ['site_name: x\ndocs_dir: handbook/pages\n', 'handbook/pages'],
    ];
    for (const [text, docsDir] of cases) {
      const parsed = parseMkdocsConfig(text);
      assert.ok('config' in parsed, `parsed ${JSON.stringify(text)}`);
      assert.equal(parsed.config.docsDir, docsDir);
    }
  });
});

describe('navigation', () => {
  const titles = new Map([
    ['index.md', 'Welcome'],
    ['guides/setup.md', 'Setting up'],
  ]);

  test('a nav entry to a missing page is reported at its place in mkdocs.yml', () => {
    const text = 'site_name: x\nnav:\n  - index.md\n  - Setup: guides/setup.md\n  - Gone: guides/Gone.md\n  - Bad: javascript:alert(1)\n';
    const parsed = parseMkdocsConfig(text);
    assert.ok('config' in parsed, 'parsed');
    const { nav, problems } = resolveNav(parsed.config, ['index.md', 'guides/setup.md', 'guides/gone.md', 'unlisted.md'], titles);
    assert.deepEqual(nav, [
      { title: 'Welcome', path: 'index.md' },
      { title: 'Setup', path: 'guides/setup.md' },
    ]);
    assert.deepEqual(
      problems.map((p) => [p.code, p.line, p.column]),
      [
        ['DOCS_NAV_MISSING_PAGE', 5, 11],
        ['DOCS_NAV_BAD_LINK', undefined, undefined],
      ],
    );
    assert.match(problems[0].message, /^mkdocs\.yml line 5, column 11: the nav entry "Gone" points to "guides\/Gone\.md", which is not a page in docs\/\. Did you mean "guides\/gone\.md"\?/);
  });

  test('without nav, the folder tree as MkDocs orders it', () => {
    const config: MkdocsConfig = { siteName: 'x', docsDir: 'docs' };
    const pages = ['zeta.md', 'guides/setup.md', 'index.md', 'alpha.md', 'guides/README.md', 'getting_started/first-steps.md', 'API-reference/v1.md', 'guides/advanced/tuning.md'];
    const { nav, problems } = resolveNav(config, pages, titles);
    const expected: NavNode[] = [
      { title: 'Welcome', path: 'index.md' },
      { title: 'Alpha', path: 'alpha.md' },
      { title: 'Zeta', path: 'zeta.md' },
      { title: 'API reference', children: [{ title: 'V1', path: 'API-reference/v1.md' }] },
      { title: 'Getting started', children: [{ title: 'First steps', path: 'getting_started/first-steps.md' }] },
      {
        title: 'Guides',
        children: [
          { title: 'Guides', path: 'guides/README.md' },
          { title: 'Setting up', path: 'guides/setup.md' },
          { title: 'Advanced', children: [{ title: 'Tuning', path: 'guides/advanced/tuning.md' }] },
        ],
      },
    ];
    assert.deepEqual(nav, expected);
    assert.deepEqual(problems, []);
  });
});

describe('buildSiteFromDir', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-docs-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  let count = 0;
  /** A folder holding `files` (text or bytes), named `name`. */
  function tree(files: Record<string, string | Buffer>, name = `site-${++count}`): string {
    const root = path.join(tmp, name);
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), content);
    }
    fs.mkdirSync(root, { recursive: true });
    return root;
  }
  const build = (root: string, opts: Partial<Parameters<typeof buildSiteFromDir>[1]> = {}) => buildSiteFromDir(root, { pageUrl, assetUrl, ...opts });
  async function built(root: string, opts: Partial<Parameters<typeof buildSiteFromDir>[1]> = {}): Promise<BuiltSite> {
    const result = await build(root, opts);
    assert.ok('site' in result, `expected a site, got ${JSON.stringify(result)}`);
    return result.site;
  }
  async function failed(root: string, opts: Partial<Parameters<typeof buildSiteFromDir>[1]> = {}): Promise<DocsProblem> {
    const result = await build(root, opts);
    assert.ok('problem' in result, `expected a problem, got a site`);
    return result.problem;
  }
  const codes = (site: BuiltSite) => site.problems.map((p) => `${p.code} ${p.file}`).sort();

  test('a whole site: pages, assets, nav, edit links and the problems found', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const root = tree({
      'mkdocs.yml': fixture('mkdocs-techdocs-core.yml'),
      'README.md': '# Payments\n\nThe repository readme.\n',
      'docs/index.md': '# Payments service\n\nStart with [setup](guides/setup.md).\n',
      'docs/guides/setup.md': '# Set up\n\n![logo](../img/logo.png)\n\nBack [home](../index.md), or [nowhere](nowhere.md).\n',
      'docs/reference/api.md': '# API\n',
      'docs/img/logo.png': png,
      'docs/img/huge.bin': Buffer.alloc(2048),
      'docs/binary.md': Buffer.from('# Bin\u0000ary'),
      'docs/latin1.md': Buffer.from([0x23, 0x20, 0xe9, 0x74, 0xe9]),
      'docs/.hidden.md': '# Hidden',
      'docs/.git/config': 'x',
    });
    fs.symlinkSync('../README.md', path.join(root, 'docs/readme.md'));
    fs.symlinkSync('/etc/hostname', path.join(root, 'docs/escape.md'));
    fs.symlinkSync('/etc', path.join(root, 'docs/etc'));

    const site = await built(root, { limits: { maxAssetBytes: 1024 } });
    assert.equal(site.siteName, 'Payments service');
    assert.equal(site.siteDescription, 'How the payments service works and how to run it');
    assert.deepEqual(site.pages.map((p) => [p.path, p.title]), [
      ['guides/setup.md', 'Set up'],
      ['index.md', 'Payments service'],
      ['readme.md', 'Payments'],
      ['reference/api.md', 'API'],
    ]);
    assert.deepEqual(site.assets.map((a) => [a.path, a.contentType, a.bytes.length]), [['img/logo.png', 'image/png', png.length]]);
    const setup = site.pages.find((p) => p.path === 'guides/setup.md')!;
    assert.ok(setup.html.includes('<img src="/docs/a/img/logo.png" alt="logo" />'), setup.html);
    assert.ok(setup.html.includes('<a href="/docs/p/index">home</a>'), setup.html);
    assert.deepEqual(site.nav, [
      { title: 'Payments service', path: 'index.md' },
      { title: 'Getting started', path: 'guides/setup.md' },
      { title: 'Reference', children: [{ title: 'API', path: 'reference/api.md' }, { title: 'Changelog', url: 'https://github.com/acme/payments/releases' }] },
    ]);
    assert.deepEqual(codes(site), [
      'DOCS_ASSET_SKIPPED docs/img/huge.bin',
      'DOCS_BROKEN_LINK docs/guides/setup.md',
      'DOCS_NAV_MISSING_PAGE mkdocs.yml',
      'DOCS_PAGE_SKIPPED docs/binary.md',
      'DOCS_PAGE_SKIPPED docs/escape.md',
      'DOCS_PAGE_SKIPPED docs/etc',
      'DOCS_PAGE_SKIPPED docs/latin1.md',
    ]);
    const messages = site.problems.map((p) => p.message).join('\n');
    assert.match(messages, /docs\/img\/huge\.bin was skipped: it is 2048 bytes, more than the limit of 1024 bytes per file \(docs\.limits\.maxAssetBytes\)/);
    assert.match(messages, /docs\/binary\.md was skipped: it is not UTF-8 text/);
    assert.match(messages, /docs\/escape\.md was skipped: it is a symbolic link to a place outside the repository/);
    assert.match(messages, /mkdocs\.yml line \d+, column \d+: the nav entry points to "reference\/internals\/queue\.md"/);
    assert.equal(site.editUrl?.('guides/setup.md'), 'https://github.com/acme/payments/edit/main/docs/guides/setup.md');
    assert.equal(site.editUrl?.('not-a-page.md'), undefined);
  });

  test('without mkdocs.yml: the folder name as site name, docs/ and a nav from the tree', async () => {
    const root = tree({ 'docs/index.md': '# Home page\n', 'docs/b.md': 'B', 'docs/a/x.md': '# X' }, 'inventory-api');
    const site = await built(root, { editBase: 'https://github.com/acme/inventory/tree/main/' });
    assert.equal(site.siteName, 'inventory-api');
    assert.deepEqual(site.nav, [
      { title: 'Home page', path: 'index.md' },
      { title: 'B', path: 'b.md' },
      { title: 'A', children: [{ title: 'X', path: 'a/x.md' }] },
    ]);
    assert.equal(site.editUrl?.('a/x.md'), 'https://github.com/acme/inventory/tree/main/docs/a/x.md');
    assert.deepEqual(site.problems, []);
  });

  test('mkdocs.yaml, a custom docs_dir, and edit_uri "" turning edit links off', async () => {
    const root = tree({ 'mkdocs.yaml': 'site_name: Handbook\ndocs_dir: pages\nrepo_url: https://github.com/acme/hb\nedit_uri: ""\n', 'pages/index.md': '# Hi' });
    const site = await built(root, { editBase: 'https://github.com/acme/hb/tree/main' });
    assert.equal(site.siteName, 'Handbook');
    assert.deepEqual(site.pages.map((p) => p.path), ['index.md']);
    assert.equal(site.editUrl, undefined);
  });

  test('a folder with both index.md and README.md keeps index.md, as MkDocs', async () => {
    const site = await built(tree({ 'docs/index.md': '# Index', 'docs/README.md': '# Readme' }));
    assert.deepEqual(site.pages.map((p) => p.path), ['index.md']);
    assert.deepEqual(codes(site), ['DOCS_PAGE_SKIPPED docs/README.md']);
  });

  const fatal: { name: string; files: Record<string, string>; limits?: Record<string, number>; link?: [string, string]; code: string; mentions: RegExp[] }[] = [
    { name: 'missing docs folder', files: { 'mkdocs.yml': 'site_name: x\n' }, code: 'DOCS_DIR_MISSING', mentions: [/"docs" \(docs_dir in mkdocs\.yml\) does not exist/] },
    { name: 'missing docs folder and no mkdocs.yml', files: { 'README.md': '# x' }, code: 'DOCS_DIR_MISSING', mentions: [/the default docs_dir, as there is no mkdocs\.yml/] },
    { name: 'docs folder linked outside the repository', files: { 'mkdocs.yml': 'site_name: x\n' }, link: ['/etc', 'docs'], code: 'DOCS_DIR_MISSING', mentions: [/outside the repository/] },
    { name: 'broken mkdocs.yml', files: { 'mkdocs.yml': 'site_name: x\nnav: [a\n', 'docs/index.md': '#' }, code: 'DOCS_CONFIG_INVALID', mentions: [/^mkdocs\.yml line \d+, column \d+: /] },
    {
      name: 'too many pages',
      files: { 'docs/a.md': 'a', 'docs/b.md': 'b', 'docs/c/d.md': 'd' },
      limits: { maxPages: 2 },
      code: 'DOCS_TOO_LARGE',
      mentions: [/holds 3 Markdown pages, more than the limit of 2 \(docs\.limits\.maxPages\)/],
    },
    {
      name: 'site too big',
      files: { 'docs/a.md': 'a'.repeat(600), 'docs/b.png': 'b'.repeat(600) },
      limits: { maxSiteBytes: 1000 },
      code: 'DOCS_TOO_LARGE',
      mentions: [/holds 1200 bytes of pages and files, more than the limit of 1000 bytes per site \(docs\.limits\.maxSiteBytes\)/],
    },
  ];
  for (const c of fatal) {
    test(`fatal: ${c.name}`, async () => {
      const root = tree(c.files);
      if (c.link) fs.symlinkSync(c.link[0], path.join(root, c.link[1]));
      const problem = await failed(root, { limits: c.limits });
      assert.equal(problem.code, c.code, problem.message);
      for (const m of c.mentions) assert.match(problem.message, m);
    });
  }

  test('a page over maxPageBytes is skipped, and links to it reported', async () => {
    const site = await built(tree({ 'docs/index.md': '[big](big.md)', 'docs/big.md': 'x'.repeat(200) }), { limits: { maxPageBytes: 100 } });
    assert.deepEqual(site.pages.map((p) => p.path), ['index.md']);
    assert.deepEqual(codes(site), ['DOCS_BROKEN_LINK docs/index.md', 'DOCS_PAGE_SKIPPED docs/big.md']);
    assert.match(site.problems.find((p) => p.code === 'DOCS_PAGE_SKIPPED')!.message, /200 bytes, more than the limit of 100 bytes per page \(docs\.limits\.maxPageBytes\)/);
  });

  test('a symbolic link loop inside the repository ends', async () => {
    const root = tree({ 'docs/index.md': '# Hi' });
    fs.symlinkSync('..', path.join(root, 'docs/loop'));
    const site = await built(root);
    assert.deepEqual(site.pages.map((p) => p.path), ['index.md']);
  });
});
