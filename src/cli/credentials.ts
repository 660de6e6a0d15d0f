import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `pave login` keeps for one server. */
export interface SavedCredential {
  token: string;
  tokenId: string;
  /** Who the token acts for, e.g. user:default/jane. */
  ref: string;
  scopes: string[];
  expiresAt: string | null;
  savedAt: string;
}

interface CredentialsFile {
  servers: Record<string, SavedCredential>;
}

/** `$PAVE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/pave`, else `~/.config/pave`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PAVE_CONFIG_DIR) return path.resolve(env.PAVE_CONFIG_DIR);
  return path.join(env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), '.config'), 'pave');
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'credentials.json');
}

/** One spelling per server: `HTTP://Host:7007/` and `http://host:7007` share their credentials. */
export function serverKey(server: string): string {
  try {
    const u = new URL(server);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server.replace(/\/+$/, '');
  }
}

/** The id part of `pave_pat_<id>_<secret>` (or `pave_svc_…`), which revokes the token. */
export function tokenIdOf(token: string): string | undefined {
  return /^pave_(?:pat|svc)_([a-z0-9]+)_/.exec(token)?.[1];
}

function read(file: string): CredentialsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e?.code === 'ENOENT') return { servers: {} };
    throw new Error(`cannot read ${file} (${e?.code ?? e?.message})`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    return { servers: parsed.servers && typeof parsed.servers === 'object' ? parsed.servers : {} };
  } catch {
    throw new Error(`${file} is not valid JSON; delete it and run "pave login" again`);
  }
}

/** Written whole to a private file beside it, then renamed over it: never readable by others, never half written. */
function write(file: string, content: CredentialsFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export function savedCredential(server: string, env: NodeJS.ProcessEnv = process.env): SavedCredential | undefined {
  return read(credentialsFile(env)).servers[serverKey(server)];
}

export function saveCredential(server: string, credential: SavedCredential, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env);
  const content = read(file);
  content.servers[serverKey(server)] = credential;
  write(file, content);
  return file;
}

/** Forgets the server's credentials; true when there were some. */
export function removeCredential(server: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = credentialsFile(env);
  const content = read(file);
  const key = serverKey(server);
  if (!(key in content.servers)) return false;
  delete content.servers[key];
  write(file, content);
  return true;
}
