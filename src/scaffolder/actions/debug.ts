import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import fg from 'fast-glob';
import yaml from 'yaml';
import { badInput } from '../../core/errors.ts';
import { defineAction } from '../action.ts';

/** `debug:log` and `debug:wait`: for writing and trying out templates. */

const LogInput = Type.Object({
  message: Type.Optional(Type.String({ title: 'Message to write to the log' })),
  listWorkspace: Type.Optional(
    Type.Unsafe<boolean | 'with-filenames' | 'with-contents'>({
      anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['with-filenames', 'with-contents'] }],
      title: 'List the workspace',
      description: 'List every file in the workspace (`true` or "with-filenames"), or every file with its contents ("with-contents")',
    }),
  ),
});

export type LogInput = Static<typeof LogInput>;

/** Every file (and link) in the workspace, sorted, as `/`-separated relative paths. */
async function workspaceFiles(workspacePath: string): Promise<string[]> {
  const entries = await fg('**/*', { cwd: workspacePath, dot: true, onlyFiles: false, markDirectories: true, followSymbolicLinks: false });
  return entries.filter((e) => !e.endsWith('/')).sort();
}

async function describeFile(workspacePath: string, file: string): Promise<string> {
  const full = path.join(workspacePath, file);
  try {
    return `  -> ${await readlink(full)}`;
  } catch {
    // Not a link: show what it holds.
  }
  const contents = await readFile(full);
  if (contents.subarray(0, 8192).includes(0)) return `  (binary, ${contents.length} bytes)`;
  return contents
    .toString('utf8')
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

export const debugLog = defineAction<LogInput>({
  id: 'debug:log',
  description: 'Writes a message to the step\'s log, and can list the files of the workspace (with their contents).',
  schema: { input: LogInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Write a line to the log.',
      example: yaml.stringify({ steps: [{ id: 'write-debug-line', name: 'Write "Hello Backstage!" log line', action: 'debug:log', input: { message: 'Hello Backstage!' } }] }),
    },
    {
      description: 'List the files of the workspace.',
      example: yaml.stringify({ steps: [{ id: 'write-workspace-directory', name: 'List the workspace directory', action: 'debug:log', input: { listWorkspace: true } }] }),
    },
    {
      description: 'List the files of the workspace with what they hold.',
      example: yaml.stringify({
        steps: [{ id: 'write-workspace-contents', name: 'List the workspace with contents', action: 'debug:log', input: { listWorkspace: 'with-contents' } }],
      }),
    },
  ],
  async handler(ctx) {
    const { message, listWorkspace } = ctx.input ?? {};
    if (message) ctx.log(String(message));
    if (!listWorkspace) return;
    if (listWorkspace !== true && listWorkspace !== 'with-filenames' && listWorkspace !== 'with-contents') {
      throw badInput('ACTION_INPUT_INVALID', `listWorkspace must be true, false, "with-filenames" or "with-contents", got ${JSON.stringify(listWorkspace)}`, {
        field: 'listWorkspace',
        value: listWorkspace,
      });
    }
    const files = await workspaceFiles(ctx.workspacePath);
    const lines: string[] = [];
    for (const file of files) {
      lines.push(listWorkspace === 'with-contents' ? `  - ${file}:\n${await describeFile(ctx.workspacePath, file)}` : `  - ${file}`);
    }
    ctx.log(files.length === 0 ? 'Workspace: (empty)' : `Workspace:\n${lines.join('\n')}`);
  },
});

/** Backstage's default ceiling for debug:wait. */
export const MAX_WAIT_MS = 10 * 60 * 1000;

const WaitInput = Type.Object({
  minutes: Type.Optional(Type.Number({ title: 'Minutes to wait' })),
  seconds: Type.Optional(Type.Number({ title: 'Seconds to wait' })),
  milliseconds: Type.Optional(Type.Number({ title: 'Milliseconds to wait' })),
});

export type WaitInput = Static<typeof WaitInput>;

function humanDuration(ms: number): string {
  const parts: string[] = [];
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  const millis = Math.round(ms % 1000);
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? '' : 's'}`);
  if (seconds) parts.push(`${seconds} second${seconds === 1 ? '' : 's'}`);
  if (millis || parts.length === 0) parts.push(`${millis} millisecond${millis === 1 ? '' : 's'}`);
  return parts.join(' ');
}

export const debugWait = defineAction<WaitInput>({
  id: 'debug:wait',
  description: `Waits for a while (at most ${humanDuration(MAX_WAIT_MS)}); a cancelled run stops waiting at once.`,
  schema: { input: WaitInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Wait for 500 milliseconds.',
      example: yaml.stringify({ steps: [{ id: 'wait-milliseconds', name: 'Waiting for 500 milliseconds', action: 'debug:wait', input: { milliseconds: 500 } }] }),
    },
    {
      description: 'Wait for 5 seconds.',
      example: yaml.stringify({ steps: [{ id: 'wait-5sec', name: 'Waiting for 5 seconds', action: 'debug:wait', input: { seconds: 5 } }] }),
    },
    {
      description: 'Wait for 1 minute.',
      example: yaml.stringify({ steps: [{ id: 'wait-1min', name: 'Waiting for 1 minutes', action: 'debug:wait', input: { minutes: 1 } }] }),
    },
  ],
  async handler(ctx) {
    let total = 0;
    for (const [field, unit] of [
      ['minutes', 60_000],
      ['seconds', 1000],
      ['milliseconds', 1],
    ] as const) {
      const value = ctx.input?.[field];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw badInput('ACTION_INPUT_INVALID', `${field} must be a number of zero or more, got ${JSON.stringify(value)}`, { field, value });
      }
      total += value * unit;
    }
    if (total > MAX_WAIT_MS) {
      throw badInput(
        'DEBUG_WAIT_TOO_LONG',
        `debug:wait was asked to wait ${humanDuration(total)}, longer than the most it waits (${humanDuration(MAX_WAIT_MS)}); split the wait or shorten it`,
        { requestedMs: total, maxMs: MAX_WAIT_MS },
      );
    }
    if (ctx.signal.aborted) return;
    const waited = await new Promise<boolean>((resolve) => {
      const finish = (completed: boolean) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(completed);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(true), total);
      ctx.signal.addEventListener('abort', onAbort);
    });
    ctx.log(waited ? `Waited ${humanDuration(total)}` : 'Stopped waiting: the run was cancelled');
  },
});
