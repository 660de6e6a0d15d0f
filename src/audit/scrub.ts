/**
 * Defence in depth: callers never pass secrets to the audit log, and this makes sure that a
 * mistake does not store one anyway. Applied before an entry is hashed and written.
 */

export const REDACTED = '[redacted]';

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential/i;
const PAVE_TOKEN = /pave_[A-Za-z0-9_-]{20,}/g;
const BEARER_VALUE = /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// PostgreSQL text and jsonb refuse NUL and unpaired UTF-16 surrogates.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const MAX_DEPTH = 32;

/** True for a key whose value is a secret (`password`, `apiKey`, `authorization`, ...). */
export const isSecretKey = (key: string) => SECRET_KEY.test(key);

/** Replaces Pave tokens and bearer credentials in free text; drops what PostgreSQL cannot store. */
export function scrubString(s: string): string {
  return s.replace(UNSTORABLE, '\ufffd').replace(PAVE_TOKEN, REDACTED).replace(BEARER_VALUE, `Bearer ${REDACTED}`);
}

/** A request path with the values of secret-named query parameters (`?token=`, `?password=`) redacted. */
export function scrubPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return scrubString(path);
  const query = path
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the raw key
      }
      return eq >= 0 && isSecretKey(name) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
  return scrubString(`${path.slice(0, q)}?${query}`);
}

/**
 * A JSON-safe copy of `details`: values under secret-named keys become `[redacted]`, strings are
 * scrubbed, and whatever JSON cannot hold (undefined, functions, cycles) is dropped or marked.
 */
export function scrubDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (details === undefined || details === null) return {};
  const out = scrubValue(details, 0, new WeakSet());
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : { value: out };
}

function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return scrubString(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Error) return { name: value.name, message: scrubString(value.message) };
  const obj = value as object;
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v) => scrubValue(v, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const key = scrubString(k);
      if (isSecretKey(k)) {
        if (v !== undefined) out[key] = REDACTED;
        continue;
      }
      const clean = scrubValue(v, depth + 1, seen);
      if (clean !== undefined) out[key] = clean;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}
