import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import yaml from 'yaml';
import { EntityValidator } from '../catalog/index.ts';
import { addTemplateCheck, BUILTIN_ACTION_IDS, readDirectoryContents } from '../scaffolder/index.ts';
import { printFindings, validateFiles } from './catalog.ts';
import { apiError, PaveClient, safeJson } from './client.ts';

export interface TaskEvent {
  id: number;
  type: 'log' | 'completion' | 'cancelled' | 'recovered';
  body: { message: string; stepId?: string; status?: string; output?: { links?: { title?: string; url?: string; entityRef?: string }[]; text?: { title?: string; content?: string }[] }; error?: { message: string } };
}

function readValues(file: string | undefined, sets: string[]): Record<string, unknown> {
  const values: Record<string, unknown> = file ? (yaml.parse(fs.readFileSync(file, 'utf8')) ?? {}) : {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new Error(`--set takes name=value, got "${s}"`);
    values[s.slice(0, eq)] = yaml.parse(s.slice(eq + 1));
  }
  return values;
}

function printEvent(e: TaskEvent): void {
  const step = e.body.stepId ? `[${e.body.stepId}] ` : '';
  if (e.type === 'completion') {
    console.log(`${e.body.message}${e.body.error ? `: ${e.body.error.message}` : ''}`);
    for (const l of e.body.output?.links ?? []) console.log(`  ${l.title ?? 'link'}: ${l.url ?? l.entityRef}`);
    for (const t of e.body.output?.text ?? []) console.log(`  ${t.title ?? ''}\n${t.content ?? ''}`);
  } else {
    console.log(`${step}${e.body.message}`);
  }
}

/**
 * Follows a run over its server-sent event stream until `onEvent` says it is over. A stream that
 * ends early (Pave restarted, a proxy timed out) is opened again from the last event seen.
 */
export async function followEvents(client: PaveClient, id: string, onEvent: (e: TaskEvent) => boolean): Promise<void> {
  let after = 0;
  for (let attempt = 0; ; attempt++) {
    const stop = new AbortController();
    const res = await client.fetch('GET', `/api/scaffolder/v2/tasks/${encodeURIComponent(id)}/eventstream?after=${after}`, undefined, stop.signal);
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw apiError(res, text ? safeJson(text) : undefined, 'GET the event stream');
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          buffer = buffer.slice(end + 2);
          if (!data) continue;
          const e = JSON.parse(data) as TaskEvent;
          after = e.id;
          attempt = 0;
          if (onEvent(e)) return;
        }
      }
    } finally {
      stop.abort();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));
  }
}

/** `pave template run|dry-run|validate`. */
export function templateCommands(program: Command): void {
  const template = program.command('template').description('Run golden-path templates (Backstage scaffolder v1beta3)');

  template
    .command('run')
    .description('Run a template from the catalog and follow its log')
    .argument('<ref>', 'the template, e.g. template:default/production-microservice or production-microservice')
    .option('--values <file>', 'a YAML or JSON file with the values of the form')
    .option('--set <name=value>', 'one value (YAML), may repeat', (v: string, prev: string[]) => [...prev, v], [])
    .option('--secret <name=value>', 'a secret value (never logged), may repeat', (v: string, prev: string[]) => [...prev, v], [])
    .option('--no-follow', 'print the task id and return')
    .action(async (ref: string, opts: { values?: string; set: string[]; secret: string[]; follow: boolean }, cmd: Command) => {
      const client = PaveClient.from(cmd);
      const secrets = Object.fromEntries(opts.secret.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
      const { id } = await client.request<{ id: string }>('POST', '/api/scaffolder/v2/tasks', { templateRef: ref, values: readValues(opts.values, opts.set), secrets });
      console.log(`task ${id}`);
      if (!opts.follow) return;
      await followEvents(client, id, (e) => {
        printEvent(e);
        if (e.type === 'completion' && e.body.status !== 'completed') process.exitCode = 1;
        if (e.type === 'cancelled') process.exitCode = 1;
        return e.type === 'completion' || e.type === 'cancelled';
      });
    });

  template
    .command('dry-run')
    .description('Run a template file with side effects simulated; print the log and the files it would make')
    .argument('<template.yaml>', 'the template file (its folder holds the skeletons it fetches)')
    .option('--values <file>', 'a YAML or JSON file with the values of the form')
    .option('--set <name=value>', 'one value (YAML), may repeat', (v: string, prev: string[]) => [...prev, v], [])
    .option('--out <dir>', 'write the files it would make into this folder')
    .option('--json', 'print the whole answer as JSON')
    .action(async (file: string, opts: { values?: string; set: string[]; out?: string; json?: boolean }, cmd: Command) => {
      const templateEntity = yaml.parse(fs.readFileSync(file, 'utf8'));
      const result = await PaveClient.from(cmd).request<{ log: { body: TaskEvent['body'] }[]; directoryContents: { path: string; base64Content: string }[]; output: unknown }>('POST', '/api/scaffolder/v2/dry-run', {
        template: templateEntity,
        values: readValues(opts.values, opts.set),
        directoryContents: await readDirectoryContents(path.dirname(path.resolve(file)), ['.git', 'node_modules']),
      });
      if (opts.json) return console.log(JSON.stringify(result, null, 2));
      for (const l of result.log) console.log(`${l.body.stepId ? `[${l.body.stepId}] ` : ''}${l.body.message}`);
      console.log(`\n${result.directoryContents.length} file(s):`);
      for (const f of result.directoryContents) {
        console.log(`  ${f.path}`);
        if (opts.out) {
          const target = path.resolve(opts.out, f.path);
          fs.mkdirSync(path.dirname(target), { recursive: true });
          fs.writeFileSync(target, Buffer.from(f.base64Content, 'base64'));
        }
      }
      if (result.log.some((l) => l.body.status === 'failed')) process.exitCode = 1;
    });

  template
    .command('validate')
    .description('Check template files offline, as registration does: schema, actions, expressions (exit 1 with file:line:col)')
    .argument('<files...>', 'template files')
    .option('--json', 'print the findings as JSON')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const validator = new EntityValidator();
      addTemplateCheck(validator, BUILTIN_ACTION_IDS);
      printFindings(await validateFiles(files, validator), files.length, opts.json);
    });
}
