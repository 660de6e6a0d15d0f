import { createHash } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ActorType = Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('guest'), Type.Literal('anonymous')]);
export const AuthMethod = Type.Union([Type.Literal('session'), Type.Literal('token'), Type.Literal('password'), Type.Literal('oidc'), Type.Literal('none')]);
export const Outcome = Type.Union([Type.Literal('success'), Type.Literal('denied'), Type.Literal('error')]);

export const OUTCOMES = ['success', 'denied', 'error'] as const;
export const ACTOR_TYPES = ['user', 'service', 'guest', 'anonymous'] as const;
export const AUTH_METHODS = ['session', 'token', 'password', 'oidc', 'none'] as const;

/** One entry of the audit log as the API, the export and the verifier see it. */
export const AuditEntrySchema = Type.Object(
  {
    id: Type.Integer({ description: 'Position in the chain; increases with every entry' }),
    at: Type.String({ description: 'When it happened (ISO 8601)' }),
    actor: Type.String({ description: 'Who: `user:default/jane`, `service:ci`, `anonymous`' }),
    actorType: ActorType,
    authMethod: AuthMethod,
    tokenId: Nullable(Type.String({ description: 'The id (never the secret) of the token used' })),
    action: Type.String({ description: 'What, e.g. `catalog.location.create`, `auth.signin`' }),
    target: Nullable(Type.String()),
    outcome: Outcome,
    status: Nullable(Type.Integer({ description: 'HTTP status of the answer' })),
    sourceIp: Nullable(Type.String()),
    requestId: Nullable(Type.String()),
    method: Nullable(Type.String()),
    path: Nullable(Type.String()),
    details: Type.Record(Type.String(), Type.Unknown()),
    prevHash: Type.String({ description: 'Hash of the entry before (64 zeros for the first)' }),
    hash: Type.String({ description: 'sha256(prevHash + canonical JSON of this entry)' }),
  },
  { additionalProperties: false },
);
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** What a caller hands to `AuditLog.record`. */
export interface AuditInput {
  actor: string;
  actorType: AuditEntry['actorType'];
  authMethod: AuditEntry['authMethod'];
  tokenId?: string;
  action: string;
  target?: string;
  outcome: AuditEntry['outcome'];
  status?: number;
  sourceIp?: string;
  requestId?: string;
  method?: string;
  path?: string;
  details?: Record<string, unknown>;
  at?: Date;
}

/** The prevHash of the first entry ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The hash that chains an entry to the one before it; covers every field but the hashes. */
export function entryHash(prevHash: string, e: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  const fields = {
    id: e.id,
    at: e.at,
    actor: e.actor,
    actorType: e.actorType,
    authMethod: e.authMethod,
    tokenId: e.tokenId ?? null,
    action: e.action,
    target: e.target ?? null,
    outcome: e.outcome,
    status: e.status ?? null,
    sourceIp: e.sourceIp ?? null,
    requestId: e.requestId ?? null,
    method: e.method ?? null,
    path: e.path ?? null,
    details: e.details ?? {},
  };
  return createHash('sha256').update(prevHash + canonicalJson(fields)).digest('hex');
}
