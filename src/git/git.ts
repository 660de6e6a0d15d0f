import { execFile } from 'node:child_process';

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

/** Runs git in `cwd` (a bare repository) and returns its output as a buffer. */
export function gitBuffer(cwd: string, args: string[], timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const text = stderr.toString('utf8').trim();
        reject(new GitCommandError(`git ${args[0]} failed: ${text.split('\n').pop() || err.message}`, text, stdout.toString('utf8'), typeof err.code === 'number' ? err.code : undefined));
      } else resolve(stdout);
    });
  });
}

export async function git(cwd: string, args: string[], timeoutMs?: number): Promise<string> {
  return (await gitBuffer(cwd, args, timeoutMs)).toString('utf8');
}

export const ZERO_SHA = '0000000000000000000000000000000000000000';
