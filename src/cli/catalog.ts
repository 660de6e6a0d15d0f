import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import YAML from 'yaml';
import { EntityValidator, parseDocuments, RelationError, relationsOf } from '../catalog/index.ts';
import { loadConfig } from '../core/config.ts';
import { addTemplateCheck, BUILTIN_ACTION_IDS } from '../scaffolder/index.ts';
import { PaveClient } from './client.ts';

interface Finding {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

/** Prints what validateFiles found (`file:line:col: CODE: message`, or JSON) and sets the exit code: 1 when anything is invalid. */
export function printFindings({ findings, entities }: Awaited<ReturnType<typeof validateFiles>>, fileCount: number, json?: boolean): void {
  if (json) console.log(JSON.stringify({ valid: findings.length === 0, entities, findings }, null, 2));
  else {
    for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.code}: ${f.message}`);
    console.log(findings.length ? `${findings.length} problem(s) in ${fileCount} file(s)` : `${entities} entities valid in ${fileCount} file(s)`);
  }
  process.exitCode = findings.length ? 1 : 0;
}

/** Validates files offline with the same rules as the server; usable as a CI step. */
export async function validateFiles(files: string[], validator: EntityValidator): Promise<{ findings: Finding[]; entities: number }> {
  const findings: Finding[] = [];
  let entities = 0;
  for (const file of files) {
    const abs = path.resolve(file);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e: any) {
      findings.push({ file, line: 0, column: 0, code: 'FILE_UNREADABLE', message: `cannot read: ${e.code ?? e.message}` });
      continue;
    }
    const read = parseDocuments(text, { type: 'file', target: abs });
    if (!read.ok) {
      findings.push({ file, line: read.problem.line ?? 0, column: read.problem.column ?? 0, code: read.problem.code, message: read.problem.message.replace(`${abs}:${read.problem.line}:${read.problem.column}: `, '') });
      continue;
    }
    for (const doc of read.documents) {
      const verdict = await validator.validate(doc.data);
      if ('problem' in verdict) {
        const d = doc.data as any;
        const who = typeof d?.kind === 'string' && typeof d?.metadata?.name === 'string' ? `${d.kind.toLowerCase()}:${d.metadata.namespace ?? 'default'}/${d.metadata.name}: ` : '';
        const at = doc.positionOf(verdict.problem.field);
        findings.push({ file, line: at.line, column: at.column, code: verdict.problem.code, message: who + verdict.problem.message });
        continue;
      }
      try {
        relationsOf(verdict.entity);
        entities++;
      } catch (e) {
        if (!(e instanceof RelationError)) throw e;
        const at = doc.positionOf(e.field);
        findings.push({ file, line: at.line, column: at.column, code: 'ENTITY_INVALID', message: e.message });
      }
    }
  }
  return { findings, entities };
}

export function catalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('Work with the software catalog');

  catalog
    .command('validate')
    .description('Validate catalog-info.yaml files offline; exit code 1 and file:line:col errors when any is invalid')
    .argument('<files...>', 'YAML or JSON entity files')
    .option('--json', 'print the findings as JSON')
    .option('-c, --config <file>', 'pave.yaml with custom kinds (catalog.kinds)')
    .action(async (files: string[], opts: { json?: boolean; config?: string }) => {
      const config = loadConfig({ file: opts.config, env: { PAVE_CONFIG: process.env.PAVE_CONFIG } });
      const validator = new EntityValidator(config.catalog.kinds);
      addTemplateCheck(validator, BUILTIN_ACTION_IDS);
      printFindings(await validateFiles(files, validator), files.length, opts.json);
    });

  catalog
    .command('import')
    .description('Register a location (a file, glob, folder, or http(s) URL) with a running Pave')
    .argument('<target>', 'path, glob or URL')
    .option('--dry-run', 'only show what would be imported')
    .option('--json', 'print the answer as JSON')
    .action(async (target: string, opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const client = PaveClient.from(cmd);
      const isUrl = /^https?:\/\//i.test(target);
      const spec = { type: isUrl ? 'url' : 'file', target: isUrl ? target : path.resolve(target) };
      const res = await client.request<{ location: { id: string }; entities: any[]; exists?: boolean }>(
        'POST',
        `/api/catalog/locations${opts.dryRun ? '?dryRun=true' : ''}`,
        spec,
      );
      if (opts.json) return console.log(JSON.stringify(res, null, 2));
      for (const e of res.entities) console.log(`${e.kind.toLowerCase()}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`);
      console.log(opts.dryRun ? `${res.entities.length} entities would be imported` : `location ${res.location.id} registered; ${res.entities.length} entities`);
    });

  catalog
    .command('get')
    .description('Show one entity as YAML')
    .argument('<ref>', 'entity ref, e.g. component:default/payments-api')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const m = /^([^:]+):(?:([^/]+)\/)?(.+)$/.exec(ref);
      if (!m) throw new Error(`"${ref}" is not an entity ref; write kind:namespace/name or kind:name`);
      const [, kind, namespace = 'default', name] = m;
      const entity = await PaveClient.from(cmd).request('GET', `/api/catalog/entities/by-name/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);
      console.log(opts.json ? JSON.stringify(entity, null, 2) : YAML.stringify(entity));
    });

  catalog
    .command('list')
    .description('List entities, optionally filtered (Backstage filter syntax)')
    .option('-f, --filter <filter...>', 'e.g. kind=component,spec.owner=team-a (repeat for OR)')
    .option('-q, --query <term>', 'full-text term')
    .option('-l, --limit <n>', 'how many', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'print JSON')
    .action(async (opts: { filter?: string[]; query?: string; limit: number; json?: boolean }, cmd: Command) => {
      const params = new URLSearchParams();
      for (const f of opts.filter ?? []) params.append('filter', f);
      if (opts.query) params.set('fullTextFilterTerm', opts.query);
      params.set('limit', String(opts.limit));
      params.set('orderField', 'metadata.name,asc');
      const page = await PaveClient.from(cmd).request<{ items: any[]; totalItems: number }>('GET', `/api/catalog/entities/by-query?${params}`);
      if (opts.json) return console.log(JSON.stringify(page, null, 2));
      const rows = page.items.map((e) => [
        `${e.kind.toLowerCase()}:${e.metadata.namespace}/${e.metadata.name}`,
        e.spec?.type ?? '',
        e.spec?.owner ?? '',
        e.spec?.lifecycle ?? '',
      ]);
      const widths = [0, 1, 2, 3].map((i) => Math.max(...[['REF', 'TYPE', 'OWNER', 'LIFECYCLE'][i].length, ...rows.map((r) => String(r[i]).length)]));
      const line = (r: string[]) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
      console.log(line(['REF', 'TYPE', 'OWNER', 'LIFECYCLE']));
      for (const r of rows) console.log(line(r));
      console.log(`${page.items.length} of ${page.totalItems}`);
    });
}
