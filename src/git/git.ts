import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { scratchDir } from '../core/scratch.ts';

/** Git's plumbing without a terminal, a user configuration, or a pager. */
export const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_PAGER: 'cat',
  GIT_AUTHOR_NAME: 'Pave',
  GIT_AUTHOR_EMAIL: 'pave@localhost',
  GIT_COMMITTER_NAME: 'Pave',
  GIT_COMMITTER_EMAIL: 'pave@localhost',
};

export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly stdout = '',
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

export interface GitOptions {
  /** 0: no limit. */
  timeoutMs?: number;
  /** Added to the environment (a commit's author, a push log). */
  env?: Record<string, string>;
}

/** Runs git in `cwd` and returns its output as a buffer. */
export function gitBuffer(cwd: string, args: string[], opts: GitOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env: { ...process.env, ...GIT_ENV, ...opts.env }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 30_000 },
      (err, stdout, stderr) => {
        if (err) {
          const text = stderr.toString('utf8').trim();
          reject(new GitCommandError(`git ${args[0]} failed: ${text.split('\n').pop() || err.message}`, text, stdout.toString('utf8'), typeof err.code === 'number' ? err.code : undefined));
        } else resolve(stdout);
      },
    );
  });
}

export async function git(cwd: string, args: string[], opts?: GitOptions): Promise<string> {
  return (await gitBuffer(cwd, args, opts)).toString('utf8');
}

export interface RefUpdate {
  ref: string;
  before: string;
  after: string;
}

/**
 * Where a push's post-receive hook writes the ref updates git accepted (PAVE_PUSH_LOG in the
 * environment of the process that receives the push): the exact before/after of every ref.
 */
export async function createPushLog(workDir: string): Promise<{ env: { PAVE_PUSH_LOG: string }; read(): Promise<RefUpdate[]> }> {
  const file = path.join(await scratchDir(workDir, 'push-'), 'refs');
  return {
    env: { PAVE_PUSH_LOG: file },
    async read() {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      await fs.rm(path.dirname(file), { recursive: true, force: true });
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [before, after, ref] = line.split(' ');
          return { before: before ?? ZERO_SHA, after: after ?? ZERO_SHA, ref };
        });
    },
  };
}

export const ZERO_SHA = '0000000000000000000000000000000000000000';
