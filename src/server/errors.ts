import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPaveError } from '../core/errors.ts';

/** Backstage clients read `error.name`, `response.statusCode`; Pave clients read `error.code`. */
const NAME_BY_STATUS: Record<number, string> = {
  400: 'InputError',
  401: 'AuthenticationError',
  403: 'NotAllowedError',
  404: 'NotFoundError',
  409: 'ConflictError',
  423: 'NotAllowedError',
  429: 'ServiceUnavailableError',
  413: 'InputError',
  415: 'InputError',
  503: 'ServiceUnavailableError',
};

export function errorBody(req: FastifyRequest, status: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return {
    error: { name: NAME_BY_STATUS[status] ?? 'Error', code, message, details },
    request: { method: req.method, url: req.url },
    response: { statusCode: status },
  };
}

function send(req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string, details?: Record<string, unknown>) {
  // git asks for credentials (and uses credential helpers) only when challenged with Basic.
  if (status === 401) reply.header('www-authenticate', req.url.startsWith('/git/') ? 'Basic realm="Pave git"' : `Bearer realm="pave", error="invalid_token"`);
  return reply.status(status).type('application/json; charset=utf-8').send(errorBody(req, status, code, message, details));
}

/** One error shape for every route: `{ error: { code, message, details } }` with a stable code. */
export function installErrorHandling(app: FastifyInstance, spaIndex?: Buffer): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isPaveError(err)) return send(req, reply, err.status, err.code, err.message, err.details);
    if (err.validation) {
      const first = err.validation[0];
      const where = err.validationContext ?? 'request';
      const field = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : (first?.params as any)?.missingProperty ?? '';
      return send(req, reply, 400, 'INVALID_REQUEST', `Invalid ${where}${field ? ` field "${field}"` : ''}: ${first?.message ?? err.message}`, {
        in: where,
        field,
        problems: err.validation.map((v) => ({ path: v.instancePath, message: v.message, params: v.params })),
      });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(req, reply, 413, 'BODY_TOO_LARGE', `The request body is over the limit of ${app.initialConfig.bodyLimit} bytes (server.bodyLimitBytes)`);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(req, reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json');
    if (err.code === 'INVALID_JSON') return send(req, reply, 400, 'INVALID_JSON', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return send(req, reply, err.statusCode, err.code ?? 'BAD_REQUEST', err.message);
    req.log.error({ err }, 'unhandled error');
    return send(req, reply, 500, 'INTERNAL', 'Pave failed to handle the request; the server log has the details under this request id', { requestId: req.id });
  });
  app.setNotFoundHandler((req, reply) => {
    // The portal routes on the client: any other GET outside /api is one of its pages.
    if (spaIndex && req.method === 'GET' && !req.url.startsWith('/api/')) return reply.type('text/html; charset=utf-8').send(spaIndex);
    return send(req, reply, 404, 'ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}; see /api/openapi.json for the API`);
  });
  // Backstage's client sends Content-Type: application/json even on bodiless DELETEs.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(Object.assign(new Error(`The request body is not valid JSON: ${(e as Error).message}`), { code: 'INVALID_JSON', statusCode: 400 }) as any, undefined);
    }
  });
}
