// Client for Pave's audit log API (admins): read with filters and a cursor, export, verify.
import { apiRequest } from './api.ts';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  actorType: 'user' | 'service' | 'guest' | 'anonymous';
  authMethod: 'session' | 'token' | 'password' | 'oidc' | 'none';
  tokenId: string | null;
  action: string;
  target: string | null;
  outcome: 'success' | 'denied' | 'error';
  status: number | null;
  sourceIp: string | null;
  requestId: string | null;
  method: string | null;
  path: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The filters the list and the export share; `from` and `to` are ISO 8601 times. */
export interface AuditFilters {
  actor?: string;
  action?: string;
  outcome?: string;
  target?: string;
  from?: string;
  to?: string;
}

export interface AuditPage {
  items: AuditEntry[];
  nextCursor?: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstId?: number;
  lastId?: number;
  brokenAt?: { id: number; problem: string; reason: string };
}

function filterParams(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  return params;
}

export function listAudit(filters: AuditFilters, after: string | undefined, limit: number, signal?: AbortSignal): Promise<AuditPage> {
  const params = filterParams(filters);
  if (after) params.set('after', after);
  params.set('limit', String(limit));
  return apiRequest(`/api/audit?${params}`, { signal });
}

/** A download of the filtered entries as JSON lines, oldest first, with their hashes. */
export function auditExportUrl(filters: AuditFilters): string {
  const query = filterParams(filters).toString();
  return `/api/audit/export${query ? `?${query}` : ''}`;
}

export function verifyAudit(): Promise<AuditVerification> {
  return apiRequest('/api/audit/verify');
}
