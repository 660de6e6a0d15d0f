import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import '../server/route-config.ts';
import type { AuditInput } from '../audit/entry.ts';
import { isPaveError, PaveError } from '../core/errors.ts';
import { errorBody } from '../server/errors.ts';
import type { Decision } from './policy.ts';
import { safeEqual } from './secrets.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import type { Identity } from './service.ts';
import type { SessionInfo } from './sessions.ts';

/** What the audit log needs to take an entry (src/audit implements it). */
export interface AuditSink {
  record(entry: AuditInput): Promise<void>;
}

/** What a handler adds to its audit entry. */
export interface AuditNote {
  action?: string;
  target?: string;
  /** Who acted, when the request itself established it (sign-in). */
  actor?: { ref: string; type: Principal['type'] };
  authMethod?: 'password' | 'oidc' | 'none';
  details?: Record<string, unknown>;
  /** When the status does not tell (a sign-in that fails still answers with a redirect). */
  outcome?: 'success' | 'denied' | 'error';
  skip?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    access: RequestAccess;
    audit: AuditNote;
    /** The session the cookie stands for, when the caller came with one. */
    authSession: SessionInfo | undefined;
  }
}

export const SESSION_COOKIE = 'pave_session';
export const SECURE_SESSION_COOKIE = '__Host-pave_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const notAllowed = (principal: Principal, permission: string, decision?: Decision) => {
  if (decision?.result === 'DENY' && decision.reason === 'scope') {
    return new PaveError('TOKEN_SCOPE_INSUFFICIENT', 403, `The token's scopes (${principal.scopes?.join(', ')}) do not cover ${permission}; use a token with a wider scope`, {
      permission,
      scopes: principal.scopes,
    });
  }
  return new PaveError('NOT_ALLOWED', 403, `${principal.ref} is not allowed ${permission}${decision?.result === 'CONDITIONAL' ? ' on this resource' : ''}`, {
    permission,
    principal: principal.ref,
  });
};

export const authRequired = () =>
  new PaveError('AUTH_REQUIRED', 401, 'Sign in first, or send an API token as "Authorization: Bearer <token>" (pave login, or pave token create)', {});

/** 401 for a caller who did not sign in, 403 for one who may not. */
const refusal = (principal: Principal, permission: string, decision: Decision) =>
  principal.type === 'anonymous' ? authRequired() : notAllowed(principal, permission, decision);

/**
 * One request's view of the policy. A route's permission is checked before its handler; when
 * the decision is conditional the handler must settle it per resource (`authorize`) or as a
 * list filter (`filter`), and a response that settled nothing is refused.
 */
export class RequestAccess {
  /** Conditional route decisions still waiting for the handler. */
  unsettled: string | undefined;

  constructor(
    private readonly identity: Identity,
    readonly principal: Principal,
  ) {}

  decide(permission: string): Decision {
    return this.identity.policy.decide(this.principal, permission);
  }

  /** Throws 401/403 unless the principal may do `permission` (to `resource`, when conditional). */
  authorize(permission: string, resource?: unknown): void {
    if (!this.allows(permission, resource)) throw refusal(this.principal, permission, this.decide(permission));
    this.nothingToDecide(permission);
  }

  /** Whether `authorize` would pass, for hiding things rather than refusing them. */
  allows(permission: string, resource?: unknown): boolean {
    const d = this.decide(permission);
    if (d.result === 'ALLOW') return true;
    if (d.result === 'DENY' || resource === undefined) return false;
    this.nothingToDecide(permission);
    return this.identity.policy.applies(d.resourceType, d.conditions, resource);
  }

  /** The handler found no resource to decide on (it does not exist), so there is nothing to refuse. */
  nothingToDecide(permission: string): void {
    if (this.unsettled === permission) this.unsettled = undefined;
  }

  /**
   * The filter a list must apply for `permission`, in the query language its resource type
   * registered: undefined when everything is allowed; throws when nothing is.
   */
  filter<Q>(permission: string): Q | undefined {
    const d = this.decide(permission);
    if (d.result === 'DENY') throw refusal(this.principal, permission, d);
    this.nothingToDecide(permission);
    if (d.result === 'ALLOW') return undefined;
    return this.identity.policy.toQuery<Q>(d.resourceType, d.conditions);
  }
}

export interface AccessOptions {
  identity: Identity;
  audit?: AuditSink;
  /** `auth.session.secureCookie` and whether the public URL is https. */
  secureCookie: 'auto' | 'always' | 'never';
  httpsBaseUrl: boolean;
  /** `server.baseUrl`: links Pave hands out (device sign-in) use it when set. */
  baseUrl?: string;
}

export function isSecureRequest(req: FastifyRequest, opts: Pick<AccessOptions, 'secureCookie' | 'httpsBaseUrl'>): boolean {
  if (opts.secureCookie === 'always') return true;
  if (opts.secureCookie === 'never') return false;
  return opts.httpsBaseUrl || req.protocol === 'https';
}

export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number, opts: AccessOptions): void {
  const secure = isSecureRequest(req, opts);
  reply.setCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, value, { path: '/', httpOnly: true, secure, sameSite: 'lax', maxAge: Math.floor(maxAgeSeconds) });
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply, opts: AccessOptions): void {
  const secure = isSecureRequest(req, opts);
  reply.clearCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, { path: '/', httpOnly: true, secure, sameSite: 'lax' });
}

export function sessionCookieOf(req: FastifyRequest): string | undefined {
  return req.cookies[SECURE_SESSION_COOKIE] ?? req.cookies[SESSION_COOKIE];
}

/**
 * The API token of an Authorization header: `Bearer <token>`, or `Basic` with the token as the
 * password, which is how git and other HTTP-auth clients send it (the user name is ignored).
 */
function tokenOf(header: string): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

/**
 * Authentication, authorization and audit for every route. Must be installed before any route
 * is registered: routes that declare neither a permission nor `public` make `assertCovered` fail.
 */
export async function installAccessControl(app: FastifyInstance, opts: AccessOptions): Promise<{ assertCovered(): void }> {
  const { identity, audit } = opts;
  await app.register(fastifyCookie);
  // Off by default; sign-in routes turn it on with their own `rateLimit` (per source address).
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      new PaveError('RATE_LIMITED', 429, `Too many attempts from this address; try again in ${Math.ceil(ctx.ttl / 1000)} s`, { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) }),
  });
  app.decorateRequest('principal', null as unknown as Principal);
  app.decorateRequest('access', null as unknown as RequestAccess);
  app.decorateRequest('audit', null as unknown as AuditNote);
  app.decorateRequest('authSession', undefined);

  const uncovered: string[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const cfg = (route.config ?? {}) as { permission?: string; public?: boolean };
    if (cfg.permission || cfg.public) return;
    // The portal's files and the health checks live outside /api and are public.
    if (!route.url.startsWith('/api/') && methods.every((m) => m === 'GET' || m === 'HEAD')) {
      route.config = { ...cfg, public: true } as typeof route.config;
      return;
    }
    uncovered.push(`${methods.join(',')} ${route.url}`);
  });

  app.addHook('onRequest', async (req, reply) => {
    req.audit = {};
    // No route matched: the not-found handler answers (404, or the portal's page), as for anyone.
    const cfg: { permission?: string; public?: boolean } = req.routeOptions.url === undefined || req.method === 'OPTIONS' ? { public: true } : (req.routeOptions.config ?? {});
    let principal: Principal = ANONYMOUS;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = tokenOf(header);
      if (!token) throw new PaveError('TOKEN_INVALID', 401, 'Send API tokens as "Authorization: Bearer <token>" (git: the token as the password)', {});
      const { principal: p, firstUse } = await identity.tokens.authenticate(token, req.ip);
      principal = p;
      if (firstUse && audit && SAFE_METHODS.has(req.method)) req.audit.details = { ...req.audit.details, firstUseThisMinute: true };
    } else {
      const cookie = sessionCookieOf(req);
      if (cookie) {
        try {
          const session = await identity.sessions.authenticate(cookie);
          req.authSession = session;
          principal = session.principal;
          if (!cfg.public && !SAFE_METHODS.has(req.method)) {
            const sent = req.headers['x-csrf-token'];
            if (typeof sent !== 'string' || !safeEqual(sent, session.csrfToken)) {
              throw new PaveError('CSRF_TOKEN_INVALID', 403, 'Missing or wrong X-CSRF-Token header: the portal sends it; scripts should use an API token instead of the session cookie', {});
            }
          }
        } catch (e) {
          if (!isPaveError(e) || e.code !== 'SESSION_EXPIRED') throw e;
          clearSessionCookie(req, reply, opts);
          if (!cfg.public) throw e;
        }
      }
    }
    req.principal = principal;
    req.access = new RequestAccess(identity, principal);
    if (cfg.public) return;
    const permission = cfg.permission!;
    const decision = req.access.decide(permission);
    if (decision.result === 'DENY') throw refusal(principal, permission, decision);
    if (decision.result === 'CONDITIONAL') req.access.unsettled = permission;
  });

  // A conditional decision nobody settled must not turn into an answer.
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.access?.unsettled || reply.statusCode >= 400) return payload;
    req.log.error({ permission: req.access.unsettled, route: req.routeOptions.url }, 'route answered without settling a conditional permission');
    reply.status(403).type('application/json; charset=utf-8');
    return JSON.stringify(errorBody(req, 403, 'NOT_ALLOWED', `${req.principal.ref} is not allowed ${req.access.unsettled}`, { permission: req.access.unsettled }));
  });

  app.addHook('onResponse', async (req, reply) => {
    if (!audit || !req.audit || req.audit.skip) return;
    const status = reply.statusCode;
    const mutating = !SAFE_METHODS.has(req.method);
    const refused = status === 401 || status === 403;
    const tokenUse = req.audit.details?.firstUseThisMinute === true;
    if (!mutating && !refused && !tokenUse && req.audit.action === undefined) return;
    const p = req.principal ?? ANONYMOUS;
    const cfg: { permission?: string } = req.routeOptions.config ?? {};
    const params = (req.params ?? {}) as Record<string, unknown>;
    const paramTarget = Object.keys(params).length ? Object.values(params).map(String).join('/') : undefined;
    const actor = req.audit.actor ?? { ref: p.ref, type: p.type };
    try {
      await audit.record({
        actor: actor.ref,
        actorType: actor.type,
        authMethod: req.audit.authMethod ?? (p.via === 'none' ? 'none' : p.via),
        tokenId: p.tokenId,
        action: req.audit.action ?? (!mutating && !refused ? 'auth.token.use' : (cfg.permission ?? `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`)),
        target: req.audit.target ?? paramTarget,
        outcome: req.audit.outcome ?? (status < 400 ? 'success' : refused ? 'denied' : 'error'),
        status,
        sourceIp: req.ip,
        requestId: String(req.id),
        method: req.method,
        path: req.url.split('?')[0],
        details: req.audit.details,
      });
    } catch (e) {
      req.log.error({ err: e }, 'could not write the audit entry');
    }
  });

  return {
    assertCovered() {
      if (uncovered.length) {
        throw new Error(`Routes without an access decision (declare config.permission or config.public): ${uncovered.join('; ')}`);
      }
    },
  };
}
