import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveGitHttp } from '../git/smart-http.ts';

/**
 * Answers one request of git's smart HTTP protocol for the bare repositories under `root`, with
 * the handler Pave's own git server uses (git's `http-backend`). `pathInfo` is the repository path
 * under `root` and the service (`/acme/payments.git/info/refs`). Pushes are let in only with a
 * `remoteUser`, as git's http-backend wants: the caller decides who that is.
 */
export async function answerGitRequest(root: string, req: IncomingMessage, res: ServerResponse, o: { pathInfo: string; remoteUser?: string }): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://git.invalid');
  try {
    const answer = await serveGitHttp(root, {
      method: req.method ?? 'GET',
      pathInfo: o.pathInfo,
      query: url.search.slice(1),
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'],
      gitProtocol: req.headers['git-protocol'] as string | undefined,
      remoteUser: o.remoteUser ?? '',
      remoteAddr: req.socket.remoteAddress ?? '127.0.0.1',
      body: req.method === 'POST' ? req : undefined,
    });
    res.writeHead(answer.status, answer.headers);
    answer.body.pipe(res);
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`git http-backend failed: ${(e as Error).message}`);
  }
}

/**
 * Serves the bare repositories under `root` over git's smart HTTP protocol, read-only, so tests
 * clone and fetch with the real git client over real HTTP.
 */
export async function serveGitOverHttp(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const pathInfo = decodeURIComponent(new URL(req.url ?? '/', 'http://git.invalid').pathname);
    void answerGitRequest(root, req, res, { pathInfo });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
