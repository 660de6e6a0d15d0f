import os from 'node:os';
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { createPushLog, GIT_ENV, type RefUpdate } from './git.ts';

export interface GitHttpRequest {
  method: string;
  /** `/<org>/<name>.git/info/refs`, `/<org>/<name>.git/git-upload-pack`, … */
  pathInfo: string;
  query: string;
  contentType?: string;
  contentEncoding?: string;
  gitProtocol?: string;
  remoteUser: string;
  remoteAddr: string;
  body?: Readable;
}

export interface GitHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable;
  /** For a push: the ref updates git accepted, once the response has ended. */
  pushed: Promise<RefUpdate[]>;
}

/**
 * Answers one request of git's smart HTTP protocol with git's own `http-backend` (clone, fetch
 * and push, protocol v0-v2, gzip bodies), so Pave speaks exactly what the git client expects.
 */
export async function serveGitHttp(root: string, req: GitHttpRequest, workDir = os.tmpdir()): Promise<GitHttpResponse> {
  const pushLog = await createPushLog(workDir);
  const cgi = spawn('git', ['http-backend'], {
    env: {
      ...process.env,
      ...GIT_ENV,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: req.pathInfo,
      QUERY_STRING: req.query,
      REQUEST_METHOD: req.method,
      CONTENT_TYPE: req.contentType ?? '',
      HTTP_CONTENT_ENCODING: req.contentEncoding ?? '',
      ...(req.gitProtocol ? { GIT_PROTOCOL: req.gitProtocol } : {}),
      REMOTE_USER: req.remoteUser,
      REMOTE_ADDR: req.remoteAddr,
      ...pushLog.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (req.body) req.body.pipe(cgi.stdin);
  else cgi.stdin.end();
  let stderr = '';
  cgi.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => cgi.on('close', (code) => resolve(code)));
  const pushed = exited.then(() => pushLog.read());

  // The CGI answer is headers, a blank line, then the body: the headers become the response's.
  return new Promise<GitHttpResponse>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const body = new PassThrough();
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      cgi.stdout.off('data', onData);
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'status') status = Number(value.split(' ')[0]) || 500;
        else headers[name] = value;
      }
      body.write(head.subarray(end + 4));
      cgi.stdout.pipe(body);
      resolve({ status, headers, body, pushed });
    };
    cgi.stdout.on('data', onData);
    cgi.on('error', reject);
    void exited.then((code) => {
      // Exited before sending headers: git refused the request outright.
      if (head.indexOf('\r\n\r\n') < 0) reject(new Error(`git http-backend exited with ${code}: ${stderr.trim() || 'no output'}`));
    });
  });
}
