// Client for Pave's identity API: the session, sign-in methods, API tokens, the CLI's device
// sign-in and Backstage's permission API.
import { apiRequest, setCsrfToken } from './api.ts';

export type DecisionResult = 'ALLOW' | 'DENY' | 'CONDITIONAL';

export interface SessionPrincipal {
  type: 'user' | 'service' | 'guest';
  ref: string;
  displayName?: string;
  roles: string[];
  ownershipRefs: string[];
  via: 'session' | 'token' | 'none';
}

export interface Session {
  signedIn: boolean;
  principal?: SessionPrincipal;
  csrfToken?: string;
  expiresAt?: string;
  idleExpiresAt?: string;
  /** The decision for each permission before any resource is known. */
  permissions: Record<string, DecisionResult>;
  providers: { local: boolean; guest: boolean; oidc?: { displayName: string } };
}

function remember(session: Session): Session {
  setCsrfToken(session.csrfToken);
  return session;
}

export async function getSession(signal?: AbortSignal): Promise<Session> {
  return remember(await apiRequest<Session>('/api/auth/session', { signal }));
}

export async function signIn(username: string, password: string): Promise<Session> {
  return remember(await apiRequest<Session>('/api/auth/signin', { method: 'POST', body: JSON.stringify({ username, password }) }));
}

export async function signInAsGuest(): Promise<Session> {
  return remember(await apiRequest<Session>('/api/auth/guest', { method: 'POST' }));
}

/** Where the browser goes to sign in with the configured OpenID Connect provider. */
export function oidcStartUrl(returnTo: string): string {
  return `/api/auth/oidc/start?${new URLSearchParams({ returnTo })}`;
}

export async function signOut(): Promise<void> {
  await apiRequest('/api/auth/signout', { method: 'POST' });
  setCsrfToken(undefined);
}

export async function signOutEverywhere(): Promise<{ revoked: number }> {
  const res = await apiRequest<{ revoked: number }>('/api/auth/signout-everywhere', { method: 'POST' });
  setCsrfToken(undefined);
  return res;
}

// ---- API tokens ----

export interface TokenInfo {
  id: string;
  name: string;
  kind: 'personal' | 'service';
  ownerRef: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}

export interface NewToken extends TokenInfo {
  /** The secret: in this answer only. */
  token: string;
}

export async function listTokens(all: boolean, signal?: AbortSignal): Promise<TokenInfo[]> {
  return (await apiRequest<{ items: TokenInfo[] }>(`/api/auth/tokens${all ? '?all=true' : ''}`, { signal })).items;
}

export function createToken(input: { name: string; scopes: string[]; expiresInDays?: number }): Promise<NewToken> {
  return apiRequest('/api/auth/tokens', { method: 'POST', body: JSON.stringify(input) });
}

export function revokeToken(id: string): Promise<TokenInfo> {
  return apiRequest(`/api/auth/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

// ---- the CLI's device sign-in ----

export interface DeviceRequest {
  userCode: string;
  clientName: string;
  scopes: string[];
  expiresAt: string;
  approved: boolean;
}

export function getDeviceRequest(userCode: string, signal?: AbortSignal): Promise<DeviceRequest> {
  return apiRequest(`/api/auth/device/${encodeURIComponent(userCode)}`, { signal });
}

export function decideDeviceRequest(userCode: string, verdict: 'approve' | 'deny'): Promise<void> {
  return apiRequest(`/api/auth/device/${encodeURIComponent(userCode)}/${verdict}`, { method: 'POST' });
}

// ---- Backstage's permission API ----

/** Decides `permission` for each resource ref (an entity ref, a location id), in one request. */
export async function authorizeEach(permission: string, resourceRefs: string[]): Promise<DecisionResult[]> {
  const res = await apiRequest<{ items: Array<{ id: string; result: DecisionResult | DecisionResult[] }> }>('/api/permission/authorize', {
    method: 'POST',
    body: JSON.stringify({ items: [{ id: '0', permission: { name: permission }, resourceRef: resourceRefs }] }),
  });
  const result = res.items[0]?.result;
  return Array.isArray(result) ? result : resourceRefs.map(() => result ?? 'DENY');
}
