import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

type Route = (url: URL) => { status: number; body: unknown };

/** The service's routes, by path; each answers GET. */
const routes: Record<string, Route> = {
  '/healthz': () => ({ status: 200, body: { status: 'ok' } }),
  '/hello': (url) => ({ status: 200, body: { message: `Hello, ${url.searchParams.get('name') || 'world'}` } }),
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** Answers one request: JSON for every route, 404 for an unknown path, 405 for a method other than GET. */
export function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
  if (!route) return send(res, 404, { error: `no route ${url.pathname}` });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, { error: `${url.pathname} answers GET only` });
  }
  const { status, body } = route(url);
  send(res, status, body);
}

/** The HTTP server, not yet listening. */
export function createService(): Server {
  return createServer(handle);
}
