import fs from 'node:fs';
import path from 'node:path';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorBody, installErrorHandling } from './errors.ts';
import './route-config.ts';

export interface HttpOptions {
  logger: Logger;
  bodyLimit: number;
  version: string;
  webRoot?: string;
  isReady: () => Promise<boolean>;
  /** Believe X-Forwarded-For / -Proto from a reverse proxy (server.trustProxy). */
  trustProxy?: boolean;
  cors?: { origins: string[]; credentials: boolean };
  /** The public URL is https: send HSTS on every answer, not only on requests that came in over TLS. */
  httpsBaseUrl?: boolean;
  /** Runs before any route exists: access control installs its hooks here. */
  beforeRoutes?: (app: FastifyInstance) => Promise<void>;
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
    trustProxy: opts.trustProxy ?? false,
  });
  // The portal is served from here: scripts only from Pave itself, no framing, no sniffing.
  // Mantine writes style attributes, hence inline styles.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: false,
    frameguard: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
  });
  // HSTS only means something over TLS: sent when the request came over https (directly or via a trusted proxy).
  app.addHook('onSend', async (req, reply) => {
    if (opts.httpsBaseUrl || req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  if (opts.cors?.origins.length) {
    await app.register(fastifyCors, { origin: opts.cors.origins, credentials: opts.cors.credentials, allowedHeaders: ['authorization', 'content-type', 'x-csrf-token'] });
  }
  await opts.beforeRoutes?.(app);
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
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    if (await opts.isReady()) return { status: 'ready' };
    return reply.status(503).send(errorBody(req, 503, 'NOT_READY', 'Pave is starting or shutting down'));
  });
  if (hasWeb) await app.register(fastifyStatic, { root: opts.webRoot!, prefix: '/', wildcard: false, index: ['index.html'] });
  return app;
}
