import * as client from 'openid-client';
import type { Logger } from 'pino';
import type { OidcConfig } from '../core/config.ts';
import { PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';

/** Who the provider says signed in, and where in Pave they were going. */
export interface OidcClaims {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  preferredUsername?: string;
  groups?: string[];
  /** Every claim of the ID token, completed from userinfo when the ID token has no email. */
  claims: Record<string, unknown>;
  returnTo: string;
}

export interface OidcSignInOptions {
  store: Store;
  config: OidcConfig;
  /** Pave's callback URL, registered at the provider; `complete` uses it as the redirect_uri. */
  redirectUri: string;
  log?: Logger;
}

// How long the check that a cached provider still answers may take.
const PROBE_TIMEOUT_MS = 3000;
// How long a user may take at the provider between `begin` and the callback.
const FLOW_MINUTES = 10;
// Consumed and expired flows are kept this long, so a replay is reported as one.
const FLOW_RETENTION = '1 day';
// A sign-in is interactive: a provider that does not answer within this is reported as unavailable.
const REQUEST_TIMEOUT_SECONDS = 10;

// Errors the provider returns when the user (or the provider's policy) said no.
const REFUSALS = new Set(['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

interface Flow {
  nonce: string;
  code_verifier: string;
  return_to: string;
  expired: boolean;
}

/**
 * Sign-in with an OpenID Connect provider: the authorization code flow with PKCE, state and
 * nonce, the flow's state kept in the store so any replica can complete it. The provider is
 * discovered on first use and rediscovered after a failure, so Pave starts while it is down.
 */
export class OidcSignIn {
  private readonly store: Store;
  private readonly config: OidcConfig;
  private readonly redirectUri: string;
  private readonly log?: Logger;
  private discovered?: Promise<client.Configuration>;

  constructor(opts: OidcSignInOptions) {
    this.store = opts.store;
    this.config = opts.config;
    this.redirectUri = opts.redirectUri;
    this.log = opts.log;
    if (!URL.canParse(opts.redirectUri)) {
      throw new PaveError('OIDC_CONFIG_INVALID', 500, `The OIDC redirect URI "${opts.redirectUri}" is not an absolute URL; set server.baseUrl to Pave's public URL`, {
        redirectUri: opts.redirectUri,
      });
    }
    if (new URL(opts.config.issuer).protocol === 'http:' && !opts.config.allowInsecureHttp) {
      throw new PaveError(
        'OIDC_CONFIG_INVALID',
        500,
        `auth.oidc.issuer "${opts.config.issuer}" is plain http; use the provider's https issuer, or set auth.oidc.allowInsecureHttp: true for a local test provider`,
        { issuer: opts.config.issuer },
      );
    }
  }

  get issuer(): string {
    return this.config.issuer;
  }

  /** Starts a sign-in: records the flow and returns the provider's authorization URL to redirect the browser to. */
  async begin(returnTo: string): Promise<string> {
    if (!/^\/(?![/\\])/.test(returnTo) || returnTo.length > 2048) {
      throw new PaveError('OIDC_RETURN_TO_INVALID', 400, `returnTo must be a path inside Pave starting with a single "/", got "${returnTo.slice(0, 200)}"`, {
        returnTo: returnTo.slice(0, 200),
      });
    }
    const cached = this.discovered !== undefined;
    const configuration = await this.configuration();
    // Discovery is cached: a provider that went down since would only show the browser a dead
    // page, so look once more before sending anyone there.
    if (cached) await this.ensureReachable();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await this.store.query(`delete from auth_oidc_flows where expires_at < now() - interval '${FLOW_RETENTION}'`);
    await this.store.query(
      `insert into auth_oidc_flows (state, nonce, code_verifier, return_to, expires_at)
       values ($1, $2, $3, $4, now() + interval '${FLOW_MINUTES} minutes')`,
      [state, nonce, codeVerifier, returnTo],
    );
    return client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.config.scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).href;
  }

  /**
   * Finishes a sign-in from the URL the provider redirected the browser to (only its query is
   * read): consumes the flow, exchanges the code and verifies the ID token.
   */
  async complete(callbackUrl: URL): Promise<OidcClaims> {
    const params = callbackUrl.searchParams;
    const state = params.get('state');
    if (!state) {
      throw this.fail('OIDC_STATE_INVALID', 400, 'The sign-in callback has no state parameter; start the sign-in again from Pave', { reason: 'missing' });
    }
    const flow = await this.consume(state);
    const error = params.get('error');
    if (error) throw this.providerError(error, params.get('error_description'));

    const configuration = await this.configuration();
    const current = new URL(this.redirectUri);
    current.search = callbackUrl.search;
    const secrets = [params.get('code'), this.config.clientSecret].filter((s): s is string => !!s);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: flow.code_verifier,
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      throw this.exchangeError(e, 'token', configuration, secrets);
    }
    const idToken = tokens.claims();
    if (!idToken) throw this.tokenInvalid('missing', `The OpenID provider ${this.issuer} returned no ID token; request the "openid" scope in auth.oidc.scope`);
    this.checkIssuedAt(idToken.iat);

    let claims: Record<string, unknown> = { ...idToken };
    if (idToken.email === undefined && configuration.serverMetadata().userinfo_endpoint) {
      try {
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
        claims = { ...userinfo, ...idToken };
      } catch (e) {
        throw this.exchangeError(e, 'userinfo', configuration, secrets);
      }
    }
    return toOidcClaims(claims, flow.return_to);
  }

  private async ensureReachable(): Promise<void> {
    try {
      const res = await fetch(`${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      await res.body?.cancel();
      if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
    } catch (e) {
      throw this.discoveryError(e);
    }
  }

  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((e: unknown) => {
      this.discovered = undefined;
      throw e;
    });
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const execute = [client.enableNonRepudiationChecks];
    if (this.config.allowInsecureHttp) execute.push(client.allowInsecureRequests);
    try {
      return await client.discovery(
        new URL(this.config.issuer),
        this.config.clientId,
        { [client.clockTolerance]: this.config.clockToleranceSeconds },
        clientAuthentication(this.config.clientSecret),
        { execute, timeout: REQUEST_TIMEOUT_SECONDS },
      );
    } catch (e) {
      throw this.discoveryError(e);
    }
  }

  /** Marks the flow consumed in one statement, so of two callbacks with one state only one proceeds. */
  private async consume(state: string): Promise<Flow> {
    const [flow] = await this.store.query<Flow>(
      `update auth_oidc_flows set consumed_at = now()
       where state = $1 and consumed_at is null
       returning nonce, code_verifier, return_to, expires_at <= now() as expired`,
      [state],
    );
    if (!flow) {
      const [used] = await this.store.query('select 1 from auth_oidc_flows where state = $1', [state]);
      throw used
        ? this.fail('OIDC_STATE_INVALID', 400, 'This sign-in callback was already used; start the sign-in again from Pave', { reason: 'replayed' })
        : this.fail('OIDC_STATE_INVALID', 400, 'This sign-in callback does not belong to a sign-in started by Pave (unknown state); start the sign-in again from Pave', {
            reason: 'unknown',
          });
    }
    if (flow.expired) {
      throw this.fail('OIDC_STATE_EXPIRED', 400, `This sign-in took longer than ${FLOW_MINUTES} minutes at the provider and expired; start the sign-in again from Pave`, {
        expiresAfterMinutes: FLOW_MINUTES,
      });
    }
    return flow;
  }

  // openid-client checks exp and nbf with the tolerance but not iat: a token from the future is refused here.
  private checkIssuedAt(iat: number): void {
    const now = Math.floor(Date.now() / 1000);
    const tolerance = this.config.clockToleranceSeconds;
    if (iat > now + tolerance) {
      throw this.tokenInvalid(
        'issued_in_future',
        `The ID token from ${this.issuer} was issued ${iat - now}s in the future (at ${isoTime(iat)}), beyond the clock tolerance of ${tolerance}s (auth.oidc.clockToleranceSeconds); synchronise the clocks of Pave and the provider`,
        { issuedAt: isoTime(iat), now: isoTime(now), toleranceSeconds: tolerance },
      );
    }
  }

  private providerError(error: string, description: string | null): PaveError {
    const errorDescription = description ? clean(description) : undefined;
    const refused = REFUSALS.has(error);
    const advice = refused
      ? 'Sign in again; if the provider keeps refusing, ask its administrators whether your account may use Pave'
      : `Check Pave's client registration at the provider (client id ${this.config.clientId}, redirect URI ${this.redirectUri})`;
    return this.fail(
      'OIDC_PROVIDER_ERROR',
      refused ? 401 : 400,
      `The OpenID provider ${this.issuer} ended the sign-in with "${clean(error)}"${errorDescription ? ` (${errorDescription})` : ''}. ${advice}`,
      { issuer: this.issuer, error: clean(error), ...(errorDescription ? { errorDescription } : {}) },
    );
  }

  private discoveryError(e: unknown): PaveError {
    const issuer = this.issuer;
    const discoveryUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const network = networkFailure(e);
    if (network) {
      return this.unavailable(`Cannot reach the OpenID provider ${issuer} (${network}); SSO sign-in works again once it answers at ${discoveryUrl}`, {
        reason: 'unreachable',
        cause: network,
      });
    }
    if (e instanceof client.ClientError && e.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
      const discoveredIssuer = String((e.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer);
      return this.unavailable(
        `The OpenID provider at ${discoveryUrl} names its issuer "${discoveredIssuer}", not "${issuer}"; set auth.oidc.issuer to exactly "${discoveredIssuer}"`,
        { reason: 'issuer_mismatch', discoveredIssuer },
      );
    }
    const status = e instanceof client.ClientError && e.cause instanceof Response ? e.cause.status : undefined;
    return this.unavailable(
      status
        ? `The OpenID provider ${issuer} answered HTTP ${status} for its discovery document ${discoveryUrl}; check auth.oidc.issuer`
        : `The discovery document of the OpenID provider ${issuer} at ${discoveryUrl} is unusable (${libraryMessage(e)}); check auth.oidc.issuer`,
      { reason: 'discovery_failed', ...(status ? { status } : {}) },
    );
  }

  /** Maps a failure of the code exchange and ID token checks (`token`) or of the userinfo call to a PaveError. */
  private exchangeError(e: unknown, stage: 'token' | 'userinfo', configuration: client.Configuration, secrets: string[]): PaveError {
    if (e instanceof PaveError) return e;
    const network = networkFailure(e);
    if (network) {
      return this.unavailable(`The OpenID provider ${this.issuer} stopped answering during sign-in (${network}); start the sign-in again once it is back`, {
        reason: 'unreachable',
        cause: network,
      });
    }
    // The provider answered with an OAuth error: in the body, or (for a failed client authentication) in WWW-Authenticate.
    const refusal =
      e instanceof client.ResponseBodyError
        ? { error: e.error, description: e.error_description, status: e.status }
        : e instanceof client.WWWAuthenticateChallengeError
          ? { error: e.cause[0]?.parameters.error ?? 'invalid_client', description: e.cause[0]?.parameters.error_description, status: e.status }
          : undefined;
    if (refusal && stage === 'userinfo') {
      return this.tokenInvalid('userinfo_rejected', `The userinfo endpoint of ${this.issuer} refused the access token it just issued (HTTP ${refusal.status}); sign in again`);
    }
    if (refusal) {
      const error = clean(refusal.error);
      const errorDescription = refusal.description ? redact(clean(refusal.description), secrets) : undefined;
      return this.fail(
        'OIDC_CODE_REJECTED',
        401,
        `The OpenID provider ${this.issuer} refused the authorization code with "${error}"${errorDescription ? ` (${errorDescription})` : ''}; start the sign-in again, and if it keeps failing check auth.oidc.clientId and auth.oidc.clientSecret`,
        { issuer: this.issuer, error, status: refusal.status, ...(errorDescription ? { errorDescription } : {}) },
      );
    }
    if (!(e instanceof client.ClientError)) return this.tokenInvalid('invalid_response', `The OpenID provider ${this.issuer} sent a response Pave cannot use (${libraryMessage(e)})`);

    const detail = e.cause as { message?: string; cause?: { claim?: string; claims?: Record<string, unknown>; attribute?: string } } | undefined;
    const claim = detail?.cause?.claim;
    const claims = detail?.cause?.claims ?? {};
    const expectedIssuer = configuration.serverMetadata().issuer;
    switch (e.code) {
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
        if (claim === 'iss') {
          return this.tokenInvalid('wrong_issuer', `The ID token names issuer "${String(claims.iss)}" but Pave expects "${expectedIssuer}"; the token did not come from auth.oidc.issuer`, {
            expected: expectedIssuer,
            actual: String(claims.iss),
          });
        }
        if (claim === 'aud' || claim === 'azp') {
          return this.tokenInvalid(
            'wrong_audience',
            `The ID token is for audience ${JSON.stringify(claims.aud)}, not for Pave's client id "${this.config.clientId}" (auth.oidc.clientId)`,
            { expected: this.config.clientId, actual: claims.aud },
          );
        }
        if (claim === 'nonce') {
          return this.tokenInvalid('nonce_mismatch', "The ID token's nonce does not match this sign-in, so it was issued for another one (replayed or injected); start the sign-in again");
        }
        break;
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
        if (claim === 'exp') {
          return this.tokenInvalid(
            'expired',
            `The ID token expired at ${isoTime(Number(claims.exp))}, beyond the clock tolerance of ${this.config.clockToleranceSeconds}s (auth.oidc.clockToleranceSeconds); sign in again, and check the clocks of Pave and the provider`,
            { expiredAt: isoTime(Number(claims.exp)), toleranceSeconds: this.config.clockToleranceSeconds },
          );
        }
        if (claim === 'nbf') {
          return this.tokenInvalid('not_yet_valid', `The ID token is not valid before ${isoTime(Number(claims.nbf))}; synchronise the clocks of Pave and the provider`);
        }
        break;
      case 'OAUTH_KEY_SELECTION_FAILED':
        return this.tokenInvalid('bad_signature', `The ID token is signed with a key the provider does not publish at ${configuration.serverMetadata().jwks_uri}; it was not issued by ${this.issuer}`);
      case 'OAUTH_INVALID_RESPONSE':
        if (detail?.message === 'JWT signature verification failed') {
          return this.tokenInvalid('bad_signature', `The ID token's signature does not verify with the keys ${this.issuer} publishes; the token was altered or forged`);
        }
        if (detail?.message?.includes('"iss" (issuer) response parameter')) {
          return this.tokenInvalid('wrong_issuer', `The sign-in callback comes from another issuer than "${expectedIssuer}" (its iss parameter differs); start the sign-in again`);
        }
        if (detail?.message?.includes('"sub"')) {
          return this.tokenInvalid('userinfo_subject_mismatch', `The userinfo endpoint of ${this.issuer} describes another subject than the ID token`);
        }
        break;
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON': {
        const status = e.cause instanceof Response ? e.cause.status : undefined;
        return this.unavailable(`The OpenID provider ${this.issuer} failed during the code exchange${status ? ` (HTTP ${status})` : ''}; start the sign-in again`, {
          reason: 'token_endpoint_failed',
          ...(status ? { status } : {}),
        });
      }
    }
    return this.tokenInvalid('invalid_response', `The OpenID provider ${this.issuer} sent a response Pave cannot use (${redact(libraryMessage(e), secrets)})`);
  }

  private tokenInvalid(reason: string, message: string, details: Record<string, unknown> = {}): PaveError {
    return this.fail('OIDC_TOKEN_INVALID', 401, message, { issuer: this.issuer, reason, ...details });
  }

  private unavailable(message: string, details: Record<string, unknown>): PaveError {
    return this.fail('OIDC_PROVIDER_UNAVAILABLE', 503, message, { issuer: this.issuer, ...details });
  }

  private fail(code: string, status: number, message: string, details: Record<string, unknown>): PaveError {
    this.log?.warn({ code, ...details }, message);
    return new PaveError(code, status, message, details);
  }
}

/** client_secret_basic (the OIDC default) unless the provider only takes client_secret_post; none for a public client. */
function clientAuthentication(secret: string | undefined): client.ClientAuth {
  if (!secret) return client.None();
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, metadata, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const onlyPost = methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    return (onlyPost ? post : basic)(as, metadata, body, headers);
  };
}

function toOidcClaims(claims: Record<string, unknown>, returnTo: string): OidcClaims {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const verified = claims.email_verified;
  const groups = claims.groups;
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    email: text(claims.email),
    // Some providers send "true"/"false" as strings.
    emailVerified: typeof verified === 'boolean' ? verified : verified === 'true' ? true : verified === 'false' ? false : undefined,
    name: text(claims.name),
    preferredUsername: text(claims.preferred_username),
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : typeof groups === 'string' ? [groups] : undefined,
    claims,
    returnTo,
  };
}

/** The network-level reason a request to the provider failed (ECONNREFUSED, timed out…), if that is why. */
function networkFailure(e: unknown): string | undefined {
  let current: unknown = e;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof client.ClientError && (current.code === 'OAUTH_TIMEOUT' || current.code === 'OAUTH_ABORT')) return `no answer within ${REQUEST_TIMEOUT_SECONDS}s`;
    if (current instanceof TypeError && current.message === 'fetch failed') {
      const cause = current.cause as { code?: unknown; message?: unknown } | undefined;
      return typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : 'fetch failed';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The message of a library error and of its direct cause, never the cause's data (which may hold tokens). */
function libraryMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e.cause instanceof Error ? e.cause.message : undefined;
  return inner && inner !== e.message ? `${e.message}: ${inner}` : e.message;
}

// Provider-supplied text goes into messages: no control characters, bounded length.
function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
}

function redact(s: string, secrets: string[]): string {
  return secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), s);
}

function isoTime(epochSeconds: number): string {
  return Number.isFinite(epochSeconds) ? new Date(epochSeconds * 1000).toISOString() : String(epochSeconds);
}
