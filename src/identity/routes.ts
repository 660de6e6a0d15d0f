import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badInput, PaveError } from '../core/errors.ts';
import { clearSessionCookie, sessionCookieOf, setSessionCookie, type AccessOptions } from './access.ts';
import { allPermissions, permissionDef } from './permissions.ts';
import type { Principal } from './principal.ts';
import type { Identity } from './service.ts';
import type { SessionInfo } from './sessions.ts';

const tags = ['auth'];
const Any = Type.Object({}, { additionalProperties: true });
const RoleT = Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')]);

export function publicPrincipal(p: Principal) {
  return { type: p.type, ref: p.ref, displayName: p.displayName, roles: p.roles, ownershipRefs: p.ownershipRefs, scopes: p.scopes, via: p.via };
}

export interface AuthRouteOptions extends AccessOptions {
  identity: Identity;
  oidcDisplayName?: string;
}

/** Sign-in, sessions, tokens, the CLI's device flow, local accounts and the permission API. */
export async function authRoutes(app: FastifyInstance, opts: AuthRouteOptions): Promise<void> {
  const { identity } = opts;
  const cfg = identity.config;

  const basicDecisions = (p: Principal) =>
    Object.fromEntries(
      allPermissions()
        .filter((d) => d.name !== 'auth.self')
        .map((d) => [d.name, identity.policy.decide(p, d.name).result]),
    );

  const sessionBody = (s: SessionInfo | undefined, principal?: Principal) => ({
    signedIn: principal !== undefined && principal.type !== 'anonymous',
    principal: principal && principal.type !== 'anonymous' ? publicPrincipal(principal) : undefined,
    csrfToken: s?.csrfToken,
    expiresAt: s?.expiresAt,
    idleExpiresAt: s?.idleExpiresAt,
    permissions: principal && principal.type !== 'anonymous' ? basicDecisions(principal) : {},
    providers: { local: cfg.local.enabled, guest: cfg.guest.enabled, oidc: opts.oidcDisplayName ? { displayName: opts.oidcDisplayName } : undefined },
  });

  const startSession = async (req: FastifyRequest, reply: FastifyReply, ref: string, type: 'user' | 'guest', provider: string) => {
    const { cookieValue, info } = await identity.sessions.create({ ref, type, provider, sourceIp: req.ip, userAgent: req.headers['user-agent'] });
    setSessionCookie(req, reply, cookieValue, cfg.session.absoluteHours * 3600, opts);
    req.audit.actor = { ref: info.principal.ref, type: info.principal.type };
    return info;
  };

  app.get(
    '/session',
    { config: { public: true }, schema: { tags, summary: 'Who is signed in, the CSRF token, and the sign-in methods on offer' } },
    async (req) => sessionBody(req.authSession, req.principal),
  );

  const SignIn = Type.Object({ username: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false });
  app.post<{ Body: Static<typeof SignIn> }>(
    '/signin',
    {
      config: { public: true, rateLimit: { max: cfg.local.signInsPerMinutePerAddress, timeWindow: '1 minute' } },
      schema: { tags, summary: 'Sign in with a local account; sets the session cookie', body: SignIn },
    },
    async (req, reply) => {
      req.audit.action = 'auth.signin';
      req.audit.authMethod = 'password';
      req.audit.target = req.body.username.toLowerCase();
      const account = await identity.accounts.verify(req.body.username, req.body.password);
      const info = await startSession(req, reply, account.entityRef, 'user', 'local');
      return sessionBody(info, info.principal);
    },
  );

  app.post('/guest', { config: { public: true }, schema: { tags, summary: 'Sign in as a guest (when auth.guest.enabled)' } }, async (req, reply) => {
    req.audit.action = 'auth.signin';
    req.audit.authMethod = 'none';
    if (!cfg.guest.enabled) throw new PaveError('GUEST_DISABLED', 403, 'Guest access is off; set auth.guest.enabled: true in pave.yaml to allow it');
    const info = await startSession(req, reply, 'user:default/guest', 'guest', 'guest');
    return sessionBody(info, info.principal);
  });

  app.post('/signout', { config: { public: true }, schema: { tags, summary: 'End this session' } }, async (req, reply) => {
    req.audit.action = 'auth.signout';
    const cookie = sessionCookieOf(req);
    if (cookie) await identity.sessions.revoke(cookie);
    clearSessionCookie(req, reply, opts);
    return reply.status(204).send();
  });

  app.post('/signout-everywhere', { config: { permission: 'auth.self' }, schema: { tags, summary: 'End every session of the signed-in person' } }, async (req) => {
    req.audit.action = 'auth.signout.everywhere';
    return { revoked: await identity.sessions.revokeAll(req.principal.ref) };
  });

  app.post<{ Body: { principalRef: string } }>(
    '/sessions/revoke',
    { config: { permission: 'auth.session.revoke' }, schema: { tags, summary: "End every session of someone else (admin)", body: Type.Object({ principalRef: Type.String() }) } },
    async (req) => {
      req.audit.target = req.body.principalRef;
      return { revoked: await identity.sessions.revokeAll(req.body.principalRef) };
    },
  );

  app.get('/whoami', { config: { permission: 'auth.self' }, schema: { tags, summary: 'The calling principal' } }, async (req) => publicPrincipal(req.principal));

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/password',
    {
      config: { permission: 'auth.self', rateLimit: { max: cfg.local.signInsPerMinutePerAddress, timeWindow: '1 minute' } },
      schema: { tags, summary: "Change the signed-in person's local password", body: Type.Object({ currentPassword: Type.String(), newPassword: Type.String() }) },
    },
    async (req, reply) => {
      await identity.accounts.changePassword(req.principal.ref, req.body.currentPassword, req.body.newPassword);
      return reply.status(204).send();
    },
  );

  // ---- API tokens ----
  const CreateToken = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 100 }),
      kind: Type.Optional(Type.Union([Type.Literal('personal'), Type.Literal('service')])),
      scopes: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 50 })),
      expiresInDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      service: Type.Optional(Type.String({ description: 'Service tokens: the service name, e.g. ci-deployer' })),
      role: Type.Optional(RoleT),
      owners: Type.Optional(Type.Array(Type.String())),
    },
    { additionalProperties: false },
  );
  app.post<{ Body: Static<typeof CreateToken> }>(
    '/tokens',
    { config: { permission: 'auth.token.create' }, schema: { tags, summary: 'Create an API token; the token is in this answer only', body: CreateToken } },
    async (req, reply) => {
      const b = req.body;
      const kind = b.kind ?? 'personal';
      if (kind === 'service') req.access.authorize('auth.token.service.create');
      else if (req.principal.type !== 'user') throw badInput('TOKEN_KIND_INVALID', 'Only people have personal tokens; a service token is made with kind: service by an admin');
      if (kind === 'service' && !b.service) throw badInput('TOKEN_NAME_INVALID', 'A service token needs "service": the name of the service it acts as');
      const { token, info } = await identity.tokens.create({
        name: b.name,
        kind,
        owner: kind === 'service' ? b.service! : req.principal.ref,
        createdBy: req.principal.ref,
        scopes: b.scopes ?? ['write'],
        expiresInDays: b.expiresInDays,
        role: b.role,
        owners: b.owners,
      });
      req.audit.target = info.id;
      req.audit.details = { name: info.name, kind: info.kind, scopes: info.scopes };
      return reply.status(201).send({ token, ...info });
    },
  );

  app.get<{ Querystring: { all?: boolean; includeRevoked?: boolean } }>(
    '/tokens',
    {
      config: { permission: 'auth.token.read' },
      schema: { tags, summary: 'API tokens (yours; an admin sees all with all=true)', querystring: Type.Object({ all: Type.Optional(Type.Boolean()), includeRevoked: Type.Optional(Type.Boolean()) }) },
    },
    async (req) => {
      const scope = req.access.filter<{ ownerRefs: string[] }>('auth.token.read');
      const ownerRefs = scope?.ownerRefs ?? (req.query.all ? undefined : [req.principal.ref]);
      return { items: await identity.tokens.list({ ownerRefs, includeRevoked: req.query.includeRevoked }) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    // Any token may revoke itself, whatever its scopes (pave logout with a read-only token).
    { config: { permission: 'auth.self' }, schema: { tags, summary: 'Revoke an API token (auth.token.revoke, or the token itself)', params: Type.Object({ id: Type.String() }) } },
    async (req) => {
      const info = await identity.tokens.get(req.params.id);
      req.audit.action = 'auth.token.revoke';
      if (req.principal.tokenId !== info.id) req.access.authorize('auth.token.revoke', info);
      return identity.tokens.revoke(info.id);
    },
  );

  // ---- the CLI's device flow ----
  app.post<{ Body: { clientName?: string; scopes?: string[] } }>(
    '/device/code',
    {
      config: { public: true, rateLimit: { max: cfg.local.signInsPerMinutePerAddress, timeWindow: '1 minute' } },
      schema: { tags, summary: 'Start a device sign-in (pave login)', body: Type.Optional(Type.Object({ clientName: Type.Optional(Type.String({ maxLength: 100 })), scopes: Type.Optional(Type.Array(Type.String())) })) },
    },
    async (req) => {
      req.audit.skip = true;
      const scopes = req.body?.scopes?.length ? req.body.scopes : ['write'];
      const started = await identity.device.start(req.body?.clientName ?? `pave CLI`, scopes);
      const base = baseUrlOf(req, opts);
      return {
        deviceCode: started.deviceCode,
        userCode: started.userCode,
        verificationUri: `${base}/device`,
        verificationUriComplete: `${base}/device?code=${started.userCode}`,
        expiresIn: started.expiresIn,
        interval: started.interval,
      };
    },
  );

  app.post<{ Body: { deviceCode: string } }>(
    '/device/token',
    { config: { public: true }, schema: { tags, summary: 'Poll for the token of an approved device sign-in', body: Type.Object({ deviceCode: Type.String() }) } },
    async (req, reply) => {
      let grant;
      try {
        grant = await identity.device.poll(req.body.deviceCode);
      } catch (e) {
        // Waiting is not worth an audit entry every two seconds.
        if ((e as PaveError).code === 'AUTHORIZATION_PENDING' || (e as PaveError).code === 'SLOW_DOWN') req.audit.skip = true;
        throw e;
      }
      const { token, info } = await identity.tokens.create({
        name: grant.clientName,
        kind: 'personal',
        owner: grant.approvedBy,
        createdBy: grant.approvedBy,
        scopes: grant.scopes,
      });
      req.audit.action = 'auth.token.create';
      req.audit.actor = { ref: grant.approvedBy, type: 'user' };
      req.audit.target = info.id;
      return reply.status(200).send({ token, tokenType: 'Bearer', ...info });
    },
  );

  app.get<{ Params: { userCode: string } }>(
    '/device/:userCode',
    { config: { permission: 'auth.self' }, schema: { tags, summary: 'A pending device sign-in, for the approval page', params: Type.Object({ userCode: Type.String() }) } },
    async (req) => identity.device.describe(req.params.userCode),
  );
  for (const verdict of ['approve', 'deny'] as const) {
    app.post<{ Params: { userCode: string } }>(
      `/device/:userCode/${verdict}`,
      { config: { permission: 'auth.self' }, schema: { tags, summary: `${verdict === 'approve' ? 'Approve' : 'Deny'} a device sign-in`, params: Type.Object({ userCode: Type.String() }) } },
      async (req, reply) => {
        if (req.principal.type !== 'user') throw badInput('TOKEN_KIND_INVALID', 'Only a signed-in person can approve a device sign-in');
        req.audit.action = `auth.device.${verdict}`;
        await identity.device.decide(req.params.userCode, req.principal.ref, verdict === 'approve');
        return reply.status(204).send();
      },
    );
  }

  // ---- local accounts (admin) ----
  const CreateAccount = Type.Object(
    { username: Type.String(), password: Type.String(), entityRef: Type.String(), role: Type.Optional(Type.Union([RoleT, Type.Null()])) },
    { additionalProperties: false },
  );
  app.get('/accounts', { config: { permission: 'auth.account.manage' }, schema: { tags, summary: 'Local accounts' } }, async () => ({ items: await identity.accounts.list() }));
  app.post<{ Body: Static<typeof CreateAccount> }>(
    '/accounts',
    { config: { permission: 'auth.account.manage' }, schema: { tags, summary: 'Create a local account', body: CreateAccount } },
    async (req, reply) => {
      req.audit.target = req.body.username;
      return reply.status(201).send(await identity.accounts.create(req.body));
    },
  );
  app.delete<{ Params: { username: string } }>(
    '/accounts/:username',
    { config: { permission: 'auth.account.manage' }, schema: { tags, summary: 'Delete a local account', params: Type.Object({ username: Type.String() }) } },
    async (req, reply) => {
      await identity.accounts.remove(req.params.username);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { username: string } }>(
    '/accounts/:username/unlock',
    { config: { permission: 'auth.account.manage' }, schema: { tags, summary: 'Unlock a locked local account', params: Type.Object({ username: Type.String() }) } },
    async (req) => identity.accounts.unlock(req.params.username),
  );
}

/** Backstage's permission API: `POST /api/permission/authorize` with a batch of checks. */
export async function permissionRoutes(app: FastifyInstance, identity: Identity): Promise<void> {
  const Item = Type.Object({
    id: Type.String(),
    permission: Type.Object({ name: Type.String(), type: Type.Optional(Type.String()), attributes: Type.Optional(Any), resourceType: Type.Optional(Type.String()) }),
    resourceRef: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  });
  app.post<{ Body: { items: Static<typeof Item>[] } }>(
    '/authorize',
    {
      config: { permission: 'auth.self' },
      schema: { tags: ['permission'], summary: 'Check permissions for the caller, optionally per resource', body: Type.Object({ items: Type.Array(Item, { maxItems: 500 }) }) },
    },
    async (req) => {
      req.audit.skip = true;
      const items = [];
      for (const item of req.body.items) {
        const def = permissionDef(item.permission.name);
        if (!def) {
          items.push({ id: item.id, result: 'DENY' });
          continue;
        }
        const decision = req.access.decide(def.name);
        if (decision.result !== 'CONDITIONAL') {
          items.push({ id: item.id, result: decision.result });
          continue;
        }
        if (item.resourceRef === undefined) {
          items.push({ id: item.id, result: 'CONDITIONAL', pluginId: def.name.split('.')[0], resourceType: decision.resourceType, conditions: decision.conditions });
          continue;
        }
        const loader = identity.resourceLoaders.get(decision.resourceType);
        const refs = Array.isArray(item.resourceRef) ? item.resourceRef : [item.resourceRef];
        const results = [];
        for (const ref of refs) {
          const resource = loader ? await loader(ref).catch(() => undefined) : undefined;
          results.push(resource !== undefined && identity.policy.applies(decision.resourceType, decision.conditions, resource) ? 'ALLOW' : 'DENY');
        }
        items.push({ id: item.id, result: Array.isArray(item.resourceRef) ? results : results[0] });
      }
      return { items };
    },
  );
}

function baseUrlOf(req: FastifyRequest, opts: AccessOptions): string {
  return opts.baseUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}
