import type { Command } from 'commander';

/** Talks to a running Pave over its HTTP API, with the global --server and --token. */
export class PaveClient {
  constructor(
    readonly server: string,
    private readonly token?: string,
  ) {}

  static from(cmd: Command): PaveClient {
    const opts = cmd.optsWithGlobals<{ server: string; token?: string }>();
    return new PaveClient(opts.server.replace(/\/+$/, ''), opts.token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.server + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e: any) {
      throw new Error(`cannot reach Pave at ${this.server} (${e?.cause?.code ?? e?.message}); start it with "pave start" or pass --server`);
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const err = (parsed as any)?.error;
      throw new Error(err?.code ? `${err.code}: ${err.message}` : `${res.status} ${res.statusText} from ${method} ${path}`);
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
