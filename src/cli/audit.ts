import fs from 'node:fs';
import readline from 'node:readline';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { verifyLines, type AuditEntry, type AuditPage, type VerifyResult } from '../audit/index.ts';
import { apiError, PaveClient } from './client.ts';

interface FilterOptions {
  actor?: string;
  action?: string;
  outcome?: string;
  target?: string;
  since?: string;
  until?: string;
}

const AGE_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** An ISO time or an age (`30m`, `24h`, `7d`) counted back from now, as an ISO string. */
function timeOf(value: string, flag: string): string {
  const age = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (age) return new Date(Date.now() - Number(age[1]) * AGE_UNITS[age[2]]).toISOString();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`${flag} "${value}" is not a time: use ISO 8601 (2025-01-31, 2025-01-31T12:00:00Z) or an age like 30m, 24h, 7d`);
  return d.toISOString();
}

function filterParams(opts: FilterOptions): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['actor', 'action', 'outcome', 'target'] as const) if (opts[key]) params.set(key, opts[key]);
  if (opts.since) params.set('from', timeOf(opts.since, '--since'));
  if (opts.until) params.set('to', timeOf(opts.until, '--until'));
  return params;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--actor <ref>', 'only this actor, e.g. user:default/jane')
    .option('--action <action>', 'only this action; a prefix when it ends with * (catalog.*)')
    .option('--outcome <outcome>', 'success, denied or error')
    .option('--target <target>', 'only this target')
    .option('--since <when>', 'at or after: ISO time or an age like 24h, 7d')
    .option('--until <when>', 'at or before: ISO time or an age like 1h');
}

/** Says what the verification found; true when the chain is whole. */
function report(result: VerifyResult, what: 'log' | 'file'): boolean {
  if (result.ok) {
    const range = result.checked ? ` (ids ${result.firstId} to ${result.lastId}), newest hash ${result.lastHash}` : '';
    console.log(`audit ${what === 'log' ? 'log' : 'export'} verified: ${result.checked} entries form one unbroken chain${range}`);
    return true;
  }
  const b = result.brokenAt!;
  const where = `entry ${b.id}${b.line ? ` (line ${b.line})` : ''}`;
  if (what === 'file' && b.problem === 'gap') console.error(`audit export is not a contiguous chain, first break at ${where}: ${b.reason}`);
  else console.error(`audit ${what === 'log' ? 'log' : 'export'} FAILED verification, first broken entry is ${where}: ${b.reason}`);
  return false;
}

function row(e: AuditEntry): string[] {
  return [e.at, e.actor, e.action, e.target ?? '', e.outcome, e.status === null ? '' : String(e.status), e.sourceIp ?? ''];
}

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('Read, export and verify the audit log');

  withFilters(audit.command('list').description('List audit entries, newest first'))
    .option('-l, --limit <n>', 'how many (1 to 1000)', (v) => Number.parseInt(v, 10), 100)
    .option('--after <cursor>', 'the next page: the cursor printed by the page before')
    .option('--json', 'print JSON')
    .action(async (opts: FilterOptions & { limit: number; after?: string; json?: boolean }, cmd: Command) => {
      const params = filterParams(opts);
      params.set('limit', String(opts.limit));
      if (opts.after) params.set('after', opts.after);
      const page = await PaveClient.from(cmd).request<AuditPage>('GET', `/api/audit?${params}`);
      if (opts.json) return console.log(JSON.stringify(page, null, 2));
      const head = ['AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'STATUS', 'SOURCE'];
      const rows = page.items.map(row);
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
      console.log(line(head));
      for (const r of rows) console.log(line(r));
      console.log(`${page.items.length} entries${page.nextCursor ? `; older ones: --after ${page.nextCursor}` : ''}`);
    });

  withFilters(audit.command('export').description('Export audit entries as JSON lines, oldest first (an unfiltered export verifies with --file)'))
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .action(async (opts: FilterOptions & { out?: string }, cmd: Command) => {
      const res = await PaveClient.from(cmd).fetch('GET', `/api/audit/export?${filterParams(opts)}`);
      if (!res.ok || !res.body) throw apiError(res, await res.json().catch(() => undefined), 'GET /api/audit/export');
      let entries = 0;
      const counted = async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          for (const byte of chunk) if (byte === 10) entries++;
          yield chunk;
        }
      };
      const sink: Writable = opts.out ? fs.createWriteStream(opts.out) : process.stdout;
      try {
        await pipeline(Readable.fromWeb(res.body as any), counted, sink, { end: opts.out !== undefined });
      } catch (e: any) {
        // The reader of standard output went away (`pave audit export | head`): nothing to report.
        if (e?.code !== 'EPIPE') throw e;
      }
      if (opts.out) console.error(`${entries} audit entries written to ${opts.out}`);
    });

  audit
    .command('verify')
    .description("Check the audit log's hash chain (on the server, or offline in an exported file); exit code 1 when it is broken")
    .option('-f, --file <file>', 'verify this export (JSON lines) offline, without a server')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { file?: string; json?: boolean }, cmd: Command) => {
      let result: VerifyResult;
      if (opts.file) {
        if (!fs.existsSync(opts.file)) throw new Error(`cannot read ${opts.file}: no such file`);
        const lines = readline.createInterface({ input: fs.createReadStream(opts.file), crlfDelay: Infinity });
        result = await verifyLines(lines);
      } else {
        result = await PaveClient.from(cmd).request<VerifyResult>('GET', '/api/audit/verify');
      }
      const ok = opts.json ? (console.log(JSON.stringify(result, null, 2)), result.ok) : report(result, opts.file ? 'file' : 'log');
      process.exitCode = ok ? 0 : 1;
    });
}
