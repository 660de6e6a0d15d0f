import { Command } from 'commander';
import { PaveClient } from './client.ts';

interface SearchAnswer {
  results: { type: string; document: { title: string; text: string; location: string; kind?: string; owner?: string }; rank: number }[];
  numberOfResults: number;
  nextPageCursor?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** `pave search <term>` and `pave search reindex`. */
export function searchCommands(program: Command): void {
  const search = program
    .command('search')
    .description('Search the catalog (and, as they arrive, docs and templates) on a running Pave')
    .argument('[term...]', 'what to look for; misspellings are fine')
    .option('--type <type>', 'only results of this type (software-catalog, …)', collect, [])
    .option('--filter <key=value>', 'kind, owner, namespace or lifecycle, e.g. --filter kind=component', collect, [])
    .option('--limit <n>', 'results to show', '20')
    .option('--json', 'print the answer as JSON')
    .action(async (words: string[], opts: { type: string[]; filter: string[]; limit: string; json?: boolean }, cmd: Command) => {
      const term = words.join(' ');
      if (!term.trim()) throw new Error('give a term to search for, e.g. pave search payments');
      const qs = new URLSearchParams({ term, pageLimit: opts.limit });
      opts.type.forEach((t, i) => qs.append(`types[${i}]`, t));
      for (const f of opts.filter) {
        const eq = f.indexOf('=');
        if (eq < 1) throw new Error(`--filter takes key=value, e.g. kind=component; got "${f}"`);
        qs.append(`filters[${f.slice(0, eq)}]`, f.slice(eq + 1));
      }
      const answer = await PaveClient.from(cmd).request<SearchAnswer>('GET', `/api/search/query?${qs}`);
      if (opts.json) return console.log(JSON.stringify(answer, null, 2));
      if (!answer.results.length) return console.log(`nothing found for "${term}"`);
      for (const r of answer.results) {
        const what = [r.document.kind, r.document.owner && `owner ${r.document.owner}`].filter(Boolean).join(', ');
        console.log(`${String(r.rank).padStart(3)}. ${r.document.title}${what ? `  (${what})` : ''}  ${r.document.location}`);
        if (r.document.text) console.log(`     ${r.document.text.slice(0, 120)}`);
      }
      if (answer.numberOfResults > answer.results.length) console.log(`… ${answer.numberOfResults - answer.results.length} more; raise --limit to see them`);
    });
  search
    .command('reindex')
    .description('Rebuild the search index from its sources (admin)')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await PaveClient.from(cmd).request<{ documents: number; ms: number }>('POST', '/api/search/reindex');
      console.log(`reindexed ${r.documents} documents in ${(r.ms / 1000).toFixed(2)} s`);
    });
}
