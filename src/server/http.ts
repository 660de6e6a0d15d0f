import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorBody, installErrorHandling } from './errors.ts';

export interface HttpOptions {
  logger: Logger;
  bodyLimit: number;
  version: string;
  webRoot?: string;
  isReady: () => Promise<boolean>;
}

/**
 * The Fastify server every capability mounts its routes on: one error shape, an OpenAPI
 * document built from the route schemas, health endpoints and the portal's static files.
 */
export async function createHttp(opts: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    genReqId: () => Math.random().toString(36).slice(2, 12),
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } },
    routerOptions: { maxParamLength: 500 },
  });
  const hasWeb = opts.webRoot !== undefined && fs.existsSync(path.join(opts.webRoot, 'index.html'));
  // Response schemas document the API; replies are plain JSON.stringify, which keeps every field
  // of an entity and saves compiling a serializer per route at start-up.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installErrorHandling(app, hasWeb ? fs.readFileSync(path.join(opts.webRoot!, 'index.html')) : undefined);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Pave API', version: opts.version, description: 'Pave: Backstage-compatible catalog and the platform core' },
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    if (await opts.isReady()) return { status: 'ready' };
    return reply.status(503).send(errorBody(req, 503, 'NOT_READY', 'Pave is starting or shutting down'));
  });
  if (hasWeb) await app.register(fastifyStatic, { root: opts.webRoot!, prefix: '/', wildcard: false, index: ['index.html'] });
  return app;
}
