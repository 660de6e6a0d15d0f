import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes an MkDocs-layout site of `pages` pages, each like a real service's docs page: headings,
 * prose, a table, a code block, an admonition, and links to its neighbours. Every eleventh page
 * carries a Mermaid diagram. Words are drawn from a fixed list so sites differ but stay searchable.
 */
export function writeDocsSite(dir: string, siteName: string, pages: number, seed = 1): void {
  const words = ['retry', 'ledger', 'checkout', 'latency', 'idempotent', 'queue', 'replica', 'rollback', 'invoice', 'shipment', 'cache', 'token', 'schema', 'deploy', 'alert', 'budget'];
  const word = (i: number) => words[(i * 7 + seed * 13) % words.length];
  const sections = Math.max(1, Math.ceil(pages / 20));
  const files: string[] = [];
  fs.mkdirSync(path.join(dir, 'docs'), { recursive: true });
  for (let i = 0; i < pages; i++) {
    const section = `section-${i % sections}`;
    const file = i === 0 ? 'index.md' : `${section}/page-${i}.md`;
    files.push(file);
  }
  for (let i = 0; i < pages; i++) {
    const file = files[i];
    const rel = (target: string) => path.posix.relative(path.posix.dirname(file), target);
    const next = files[(i + 1) % pages];
    const body = [
      `# ${siteName} ${word(i)} page ${i}`,
      '',
      `This page explains how the ${word(i)} path of ${siteName} handles a ${word(i + 1)} during a ${word(i + 2)}. See [the next page](${rel(next)}) for the ${word(i + 3)} details.`,
      '',
      `## ${word(i + 4)} settings`,
      '',
      '| Setting | Default | Meaning |',
      '|---------|---------|---------|',
      ...Array.from({ length: 5 }, (_, k) => `| \`${word(i + k)}.limit\` | ${k * 10} | how many ${word(i + k + 1)} items are kept |`),
      '',
      '!!! warning "Before you change it"',
      `    A lower ${word(i + 5)} limit drops work during a ${word(i + 6)}.`,
      '',
      '```typescript',
      `export async function ${word(i)}Handler(input: { id: string; attempts: number }): Promise<void> {`,
      `  for (let attempt = 0; attempt < input.attempts; attempt++) {`,
      `    if (await tryOnce(input.id)) return;`,
      `    await sleep(2 ** attempt * 100);`,
      '  }',
      `  throw new Error('${word(i + 7)} failed for ' + input.id);`,
      '}',
      '```',
      '',
      `## ${word(i + 8)} runbook`,
      '',
      ...Array.from({ length: 4 }, (_, k) => `${k + 1}. Check the ${word(i + k)} dashboard, then the ${word(i + k + 2)} alerts, and page the owner when the ${word(i + k + 3)} budget is spent.`),
      '',
      ...(i % 11 === 0 ? ['```mermaid', `graph LR; client-->${word(i)}; ${word(i)}-->db[(ledger)]`, '```', ''] : []),
      '- [x] documented',
      `- [ ] ${word(i + 9)} reviewed`,
      '',
    ].join('\n');
    fs.mkdirSync(path.dirname(path.join(dir, 'docs', file)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'docs', file), body);
  }
  fs.writeFileSync(path.join(dir, 'mkdocs.yml'), `site_name: ${siteName}\n`);
}
