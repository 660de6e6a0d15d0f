import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage, isPaveError, PaveError } from '../core/errors.ts';
import { isSecureRequest, setSessionCookie, type AccessOptions } from './access.ts';
import type { OidcSignIn } from './oidc.ts';
import { resolveUser } from './resolvers.ts';
import type { Identity } from './service.ts';

const STATE_COOKIE = 'pave_oidc_state';
const COOKIE_PATH = '/api/auth/oidc';

/**
 * Single sign-on with the configured OpenID Connect provider. The flow's state is also bound
 * to the browser with a cookie, so a callback link made for someone else's sign-in is refused.
 */
export async function oidcRoutes(app: FastifyInstance, opts: AccessOptions & { identity: Identity; oidc: () => OidcSignIn }): Promise<void> {
  const { identity, oidc } = opts;
  const config = identity.config.oidc!;
  const failed = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const err = isPaveError(e) ? e : new PaveError('OIDC_ERROR', 500, `Sign-in failed: ${errorMessage(e)}`);
    if (!isPaveError(e)) req.log.error({ err: e }, 'single sign-on failed');
    req.audit.outcome = err.status === 503 || err.status >= 500 ? 'error' : 'denied';
    req.audit.details = { code: err.code };
    const q = new URLSearchParams({ error: err.code, message: err.message });
    return reply.redirect(`/signin?${q}`, 302);
  };

  app.get<{ Querystring: { returnTo?: string } }>(
    '/start',
    {
      config: { public: true, rateLimit: { max: identity.config.local.signInsPerMinutePerAddress * 3, timeWindow: '1 minute' } },
      schema: { tags: ['auth'], summary: `Sign in with ${config.displayName}: redirects to the provider` },
    },
    async (req, reply) => {
      req.audit.skip = true;
      const returnTo = req.query.returnTo ?? '/';
      try {
        const url = await oidc().begin(returnTo);
        const state = new URL(url).searchParams.get('state') ?? '';
        reply.setCookie(STATE_COOKIE, state, { path: COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure: isSecureRequest(req, opts), maxAge: 600 });
        return reply.redirect(url, 302);
      } catch (e) {
        req.audit.skip = false;
        req.audit.action = 'auth.signin';
        req.audit.authMethod = 'oidc';
        return failed(req, reply, e);
      }
    },
  );

  app.get('/callback', { config: { public: true }, schema: { tags: ['auth'], summary: 'Where the provider sends the browser back' } }, async (req, reply) => {
    req.audit.action = 'auth.signin';
    req.audit.authMethod = 'oidc';
    const url = new URL(req.url, 'http://pave.invalid');
    const state = url.searchParams.get('state');
    const bound = req.cookies[STATE_COOKIE];
    reply.clearCookie(STATE_COOKIE, { path: COOKIE_PATH });
    try {
      if (state && bound !== state && !url.searchParams.has('error')) {
        throw new PaveError('OIDC_STATE_INVALID', 400, 'This sign-in was started in another browser (or its cookie expired); start it again from the sign-in page', { reason: 'browser_mismatch' });
      }
      const claims = await oidc().complete(url);
      req.audit.target = claims.email ?? claims.preferredUsername ?? claims.subject;
      const userRef = await resolveUser(identity.store, { email: claims.email, preferredUsername: claims.preferredUsername }, config.resolvers);
      let session;
      if (userRef) {
        session = await identity.sessions.create({ ref: userRef, type: 'user', provider: 'oidc', sourceIp: req.ip, userAgent: req.headers['user-agent'] });
      } else if (config.unknownUsers === 'guest') {
        session = await identity.sessions.create({ ref: 'user:default/guest', type: 'guest', provider: 'oidc', sourceIp: req.ip, userAgent: req.headers['user-agent'] });
        req.audit.details = { admittedAsGuest: true };
      } else {
        throw new PaveError(
          'SIGNIN_USER_NOT_FOUND',
          403,
          `You signed in as ${claims.email ?? claims.preferredUsername ?? claims.subject}, but no User in the catalog matches (${config.resolvers.map((r) => r.resolver).join(', ')}). Ask your platform team to add you to the catalog.`,
          { email: claims.email },
        );
      }
      setSessionCookie(req, reply, session.cookieValue, identity.config.session.absoluteHours * 3600, opts);
      req.audit.actor = { ref: session.info.principal.ref, type: session.info.principal.type };
      return reply.redirect(claims.returnTo, 302);
    } catch (e) {
      return failed(req, reply, e);
    }
  });
}
