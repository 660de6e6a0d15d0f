import type { Command } from 'commander';
import { savedCredential } from './credentials.ts';

/** An error answer from Pave, printed as `CODE: message`; a 401 says how to sign in. */
export class PaveApiError extends Error {
  constructor(
    readonly code: string | undefined,
    readonly status: number,
    /** The server's own message, without the hint. */
    readonly reason: string,
  ) {
    const hint = status === 401 ? '\nhint: run "pave login" to sign in, or pass an API token with --token (PAVE_TOKEN)' : '';
    super(`${code ? `${code}: ` : ''}${reason}${hint}`);
  }
}

/** Talks to a running Pave over its HTTP API, with the global --server and --token. */
export class PaveClient {
  constructor(
    readonly server: string,
    private readonly token?: string,
  ) {}

  /** The token is --token or PAVE_TOKEN, else the one `pave login` saved for the server. */
  static from(cmd: Command): PaveClient {
    const opts = cmd.optsWithGlobals<{ server: string; token?: string }>();
    const server = opts.server.replace(/\/+$/, '');
    return new PaveClient(server, opts.token ?? savedCredential(server)?.token);
  }

  /** The answer as it came, for streaming; throws only when Pave cannot be reached. */
  async fetch(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(this.server + path, {
        method,
        signal,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e: any) {
      throw new Error(`cannot reach Pave at ${this.server} (${e?.cause?.code ?? e?.message}); start it with "pave start" or pass --server`);
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) throw apiError(res, parsed, `${method} ${path}`);
    return parsed as T;
  }
}

/** The error of a failed answer, from Pave's `{ error: { code, message } }` when it has one. */
export function apiError(res: Response, body: unknown, what: string): PaveApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof err?.code === 'string') return new PaveApiError(err.code, res.status, String(err.message ?? ''));
  return new PaveApiError(undefined, res.status, `${res.status} ${res.statusText} from ${what}`);
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
