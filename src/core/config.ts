import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { PaveError } from './errors.ts';

/** The JSON Schema of pave.yaml. Defaults live here, so the schema is the documentation. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 7007 },
        host: { type: 'string', default: '0.0.0.0' },
        baseUrl: { type: 'string', pattern: '^https?://' },
        bodyLimitBytes: { type: 'integer', minimum: 1024, default: 5 * 1024 * 1024 },
        shutdownGraceSeconds: { type: 'number', minimum: 0, default: 10 },
        trustProxy: { type: 'boolean', default: false },
        cors: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            origins: { type: 'array', items: { type: 'string', pattern: '^https?://' }, default: [] },
            credentials: { type: 'boolean', default: false },
          },
        },
      },
    },
    data: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dir: { type: 'string', minLength: 1, default: './.pave/data' },
        // Throwaway folders (template runs, dry-runs, pushes, docs checkouts); <dir>/work when
        // left out, on the same disk as the repositories rather than a system temp folder.
        workDir: { type: 'string', minLength: 1 },
      },
    },
    database: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: 'string', pattern: '^postgres(ql)?://' },
        poolSize: { type: 'integer', minimum: 1, maximum: 200, default: 10 },
      },
    },
    demo: { type: 'boolean', default: true },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        session: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            idleMinutes: { type: 'number', exclusiveMinimum: 0, default: 480 },
            absoluteHours: { type: 'number', exclusiveMinimum: 0, default: 168 },
            secureCookie: { enum: ['auto', 'always', 'never'], default: 'auto' },
          },
        },
        local: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            bootstrapAdminPassword: { type: 'string', minLength: 12 },
            minPasswordLength: { type: 'integer', minimum: 8, default: 12 },
            maxFailedAttempts: { type: 'integer', minimum: 1, default: 5 },
            lockoutMinutes: { type: 'number', minimum: 0, default: 15 },
            signInsPerMinutePerAddress: { type: 'integer', minimum: 1, default: 20 },
          },
        },
        guest: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { enabled: { type: 'boolean', default: false } },
        },
        oidc: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer', 'clientId'],
          properties: {
            issuer: { type: 'string', pattern: '^https?://' },
            clientId: { type: 'string', minLength: 1 },
            clientSecret: { type: 'string' },
            scope: { type: 'string', default: 'openid profile email' },
            displayName: { type: 'string', default: 'Single sign-on' },
            clockToleranceSeconds: { type: 'number', minimum: 0, default: 30 },
            allowInsecureHttp: { type: 'boolean', default: false },
            unknownUsers: { enum: ['refuse', 'guest'], default: 'refuse' },
            resolvers: {
              type: 'array',
              default: [{ resolver: 'emailMatchingUserEntityProfileEmail' }],
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['resolver'],
                properties: {
                  resolver: {
                    enum: [
                      'emailMatchingUserEntityProfileEmail',
                      'emailLocalPartMatchingUserEntityName',
                      'preferredUsernameMatchingUserEntityName',
                      'emailMatchingUserEntityAnnotation',
                    ],
                  },
                  annotation: { type: 'string' },
                },
              },
            },
          },
        },
        roles: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            admins: { type: 'array', items: { type: 'string' }, default: [] },
            viewers: { type: 'array', items: { type: 'string' }, default: [] },
            defaultRole: { enum: ['admin', 'member', 'viewer'], default: 'member' },
          },
        },
        tokens: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            defaultLifetimeDays: { type: 'number', minimum: 0.001, default: 90 },
            maxLifetimeDays: { type: 'number', minimum: 0.001, default: 365 },
            cacheSeconds: { type: 'number', minimum: 0, default: 10 },
          },
        },
      },
    },
    permission: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        rules: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['permissions', 'decision'],
            properties: {
              roles: { type: 'array', items: { enum: ['admin', 'member', 'viewer', 'guest', 'service', 'anonymous'] } },
              permissions: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
              decision: { enum: ['allow', 'deny', 'conditional'] },
              conditions: { type: 'object' },
            },
          },
        },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { retentionDays: { type: 'number', minimum: 1, default: 365 } },
    },

    scaffolder: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        concurrency: { type: 'integer', minimum: 1, default: 8 },
        // A run whose replica stopped beating for this long is taken over by another.
        takeOverAfterSeconds: { type: 'number', minimum: 1, default: 30 },
        // publish:github and publish:gitlab create the repository on Pave's own git server
        // (pave), so community templates run offline unchanged; native calls those services.
        publishTo: { enum: ['pave', 'native'], default: 'pave' },
      },
    },

    // The SCM services publish:github and publish:gitlab call when scaffolder.publishTo is native,
    // shaped as Backstage's integrations: block so its app-config entries carry over. github.com
    // and gitlab.com are known without an entry (as in Backstage); an entry adds their token.
    integrations: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        github: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['host'],
            properties: {
              host: { type: 'string', minLength: 1 },
              token: { type: 'string', minLength: 1 },
              apiBaseUrl: { type: 'string', pattern: '^https?://' },
            },
            // Only github.com has a known API address (https://api.github.com); GitHub Enterprise
            // serves its API at https://<host>/api/v3, which must be written down.
            if: { properties: { host: { const: 'github.com' } } },
            else: { required: ['apiBaseUrl'] },
          },
        },
        gitlab: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['host'],
            properties: {
              host: { type: 'string', minLength: 1 },
              token: { type: 'string', minLength: 1 },
              // Default https://<host>; the API is at <baseUrl>/api/v4 unless apiBaseUrl says otherwise.
              baseUrl: { type: 'string', pattern: '^https?://' },
              apiBaseUrl: { type: 'string', pattern: '^https?://' },
            },
          },
        },
      },
    },

    docs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Sites from url: sources are rebuilt on this schedule; local folders are watched instead.
        refreshMinutes: { type: 'number', minimum: 1, default: 30 },
        watchFiles: { type: 'boolean', default: true },
        gitTimeoutMs: { type: 'integer', minimum: 1000, default: 60_000 },
        limits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            maxPages: { type: 'integer', minimum: 1, default: 2000 },
            maxPageBytes: { type: 'integer', minimum: 1, default: 1024 * 1024 },
            maxSiteBytes: { type: 'integer', minimum: 1, default: 50 * 1024 * 1024 },
            maxAssetBytes: { type: 'integer', minimum: 1, default: 10 * 1024 * 1024 },
          },
        },
      },
    },

    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
      },
    },
    jobs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
        leaseSeconds: { type: 'number', minimum: 1, default: 30 },
        pollMs: { type: 'integer', minimum: 10, default: 500 },
      },
    },
    catalog: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        locations: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'target'],
            properties: { type: { enum: ['file', 'url'] }, target: { type: 'string', minLength: 1 } },
          },
        },
        refreshIntervalSeconds: { type: 'number', minimum: 1, default: 120 },
        orphanStrategy: { enum: ['delete', 'keep'], default: 'delete' },
        maxFileBytes: { type: 'integer', minimum: 1, default: 5 * 1024 * 1024 },
        watchFiles: { type: 'boolean', default: true },
        urlTimeoutMs: { type: 'integer', minimum: 100, default: 10_000 },
        kinds: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'schema'],
            properties: {
              kind: { type: 'string', pattern: '^[a-zA-Z][a-z0-9A-Z]*$' },
              apiVersions: { type: 'array', items: { type: 'string' }, default: [] },
              schema: { type: 'object' },
            },
          },
        },
      },
    },
  },
} as const;

export interface DocsConfig {
  refreshMinutes: number;
  watchFiles: boolean;
  gitTimeoutMs: number;
  limits: { maxPages: number; maxPageBytes: number; maxSiteBytes: number; maxAssetBytes: number };
}

export interface CustomKind {
  kind: string;
  apiVersions: string[];
  schema: Record<string, unknown>;
}

export type Role = 'admin' | 'member' | 'viewer';

/** An SCM service publish:github and publish:gitlab call with scaffolder.publishTo native. */
export interface GithubIntegrationConfig {
  host: string;
  token?: string;
  apiBaseUrl?: string;
}

export interface GitlabIntegrationConfig {
  host: string;
  token?: string;
  baseUrl?: string;
  apiBaseUrl?: string;
}

export interface IntegrationsConfig {
  github: GithubIntegrationConfig[];
  gitlab: GitlabIntegrationConfig[];
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  scope: string;
  displayName: string;
  clockToleranceSeconds: number;
  allowInsecureHttp: boolean;
  unknownUsers: 'refuse' | 'guest';
  resolvers: { resolver: string; annotation?: string }[];
}

export interface AuthConfig {
  session: { idleMinutes: number; absoluteHours: number; secureCookie: 'auto' | 'always' | 'never' };
  local: {
    enabled: boolean;
    bootstrapAdminPassword?: string;
    minPasswordLength: number;
    maxFailedAttempts: number;
    lockoutMinutes: number;
    signInsPerMinutePerAddress: number;
  };
  guest: { enabled: boolean };
  oidc?: OidcConfig;
  roles: { admins: string[]; viewers: string[]; defaultRole: Role };
  tokens: { defaultLifetimeDays: number; maxLifetimeDays: number; cacheSeconds: number };
}

export interface PolicyRuleConfig {
  roles?: string[];
  permissions: string[];
  decision: 'allow' | 'deny' | 'conditional';
  conditions?: Record<string, unknown>;
}

export interface PaveConfig {
  server: {
    port: number;
    host: string;
    baseUrl?: string;
    bodyLimitBytes: number;
    shutdownGraceSeconds: number;
    trustProxy: boolean;
    cors: { origins: string[]; credentials: boolean };
  };
  data: { dir: string; workDir: string };
  database: { url?: string; poolSize: number };
  demo: boolean;
  auth: AuthConfig;
  permission: { rules: PolicyRuleConfig[] };
  audit: { retentionDays: number };
  docs: DocsConfig;
  scaffolder: { concurrency: number; takeOverAfterSeconds: number; publishTo: 'pave' | 'native' };
  integrations: IntegrationsConfig;
  log: { level: string };
  jobs: { concurrency: number; leaseSeconds: number; pollMs: number };
  catalog: {
    locations: { type: 'file' | 'url'; target: string }[];
    refreshIntervalSeconds: number;
    orphanStrategy: 'delete' | 'keep';
    maxFileBytes: number;
    watchFiles: boolean;
    urlTimeoutMs: number;
    kinds: CustomKind[];
  };
}

/** Environment variables kept for their short, familiar names. */
const ENV_ALIASES: Record<string, string> = {
  PAVE_PORT: 'server.port',
  PAVE_DATA_DIR: 'data.dir',
  PAVE_DEMO: 'demo',
  DATABASE_URL: 'database.url',
  PAVE_LOG_LEVEL: 'log.level',
  PAVE_ADMIN_PASSWORD: 'auth.local.bootstrapAdminPassword',
};

type Leaf = { path: string; type: string };

function leaves(schema: any, prefix: string[] = []): Leaf[] {
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties).flatMap(([k, s]) => leaves(s, [...prefix, k]));
  }
  if (schema.type === 'array' || schema.type === 'object') return [];
  return [{ path: prefix.join('.'), type: schema.type ?? 'string' }];
}

/** `catalog.orphanStrategy` → `PAVE_CATALOG_ORPHAN_STRATEGY`. */
export function envNameFor(keyPath: string): string {
  return 'PAVE_' + keyPath.split('.').map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every environment variable Pave reads, with the key it sets. */
export function envVariables(): { name: string; key: string }[] {
  const out = leaves(configSchema).map((l) => ({ name: envNameFor(l.path), key: l.path }));
  for (const [name, key] of Object.entries(ENV_ALIASES)) out.push({ name, key });
  return out;
}

function coerce(raw: string, type: string): unknown {
  if (type === 'integer' || type === 'number') return raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw);
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  return raw;
}

function setPath(obj: any, keyPath: string, value: unknown): void {
  const parts = keyPath.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]] = value;
}

function getPath(obj: any, keyPath: string): unknown {
  return keyPath.split('.').reduce((o, p) => (o == null ? undefined : o[p]), obj);
}

export interface LoadConfigOptions {
  /** Path of pave.yaml; defaults to $PAVE_CONFIG, then ./pave.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from the command line, by key path; they win over the file and the environment. */
  overrides?: Record<string, unknown>;
  cwd?: string;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateConfig = ajv.compile(configSchema);

/**
 * `${NAME}` in a string of pave.yaml is the environment variable NAME, as in Backstage's
 * app-config (`$${` writes a literal `${`), so tokens and passwords stay out of the file.
 */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, file: string, at: string): any {
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([^}]*)\}/g, (whole, escaped: string, name: string) => {
      if (escaped) return whole.slice(1);
      const v = env[name.trim()];
      if (v === undefined) {
        throw new PaveError('CONFIG_INVALID', 500, `${file}: ${at} refers to the environment variable ${name.trim()}, which is not set: set it, or write the value itself`, { file, key: at, variable: name.trim() });
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, file, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, file, at ? `${at}.${k}` : k)]));
  return value;
}

export function loadConfig(opts: LoadConfigOptions = {}): PaveConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = opts.file ?? env.PAVE_CONFIG ?? (fs.existsSync(path.join(cwd, 'pave.yaml')) ? path.join(cwd, 'pave.yaml') : undefined);
  let raw: any = {};
  const sources = new Map<string, string>();
  if (file) {
    const abs = path.resolve(cwd, file);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e: any) {
      throw new PaveError('CONFIG_FILE_UNREADABLE', 500, `Cannot read the config file ${abs}: ${e.code ?? e.message}`, { file: abs });
    }
    const doc = YAML.parseDocument(text, { prettyErrors: true });
    if (doc.errors.length) {
      const err = doc.errors[0];
      const [line, col] = err.linePos?.[0] ? [err.linePos[0].line, err.linePos[0].col] : [0, 0];
      throw new PaveError('CONFIG_INVALID', 500, `${abs}:${line}:${col}: pave.yaml is not valid YAML: ${err.message.split('\n')[0]}`, {
        file: abs,
        line,
        column: col,
      });
    }
    raw = doc.toJS() ?? {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new PaveError('CONFIG_INVALID', 500, `${abs}: pave.yaml must be a mapping of keys (server:, catalog:, ...)`, { file: abs });
    }
    raw = substituteEnv(raw, env, abs, '');
    for (const l of leaves(configSchema)) if (getPath(raw, l.path) !== undefined) sources.set(l.path, abs);
  }
  const types = new Map(leaves(configSchema).map((l) => [l.path, l.type]));
  for (const { name, key } of envVariables()) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    setPath(raw, key, coerce(v, types.get(key) ?? 'string'));
    sources.set(key, `environment variable ${name}`);
  }
  for (const [key, v] of Object.entries(opts.overrides ?? {})) {
    if (v === undefined) continue;
    setPath(raw, key, v);
    sources.set(key, 'command line');
  }
  if (!validateConfig(raw)) throw configError(validateConfig.errors ?? [], raw, sources);
  const config = raw as PaveConfig;
  config.data.dir = path.resolve(cwd, config.data.dir);
  config.data.workDir = config.data.workDir ? path.resolve(cwd, config.data.workDir) : path.join(config.data.dir, 'work');
  return config;
}

function configError(errors: ErrorObject[], raw: unknown, sources: Map<string, string>): PaveError {
  const problems = errors
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      let key = e.instancePath.slice(1).replace(/\//g, '.');
      if (e.keyword === 'additionalProperties') key = key ? `${key}.${e.params.additionalProperty}` : e.params.additionalProperty;
      if (e.keyword === 'required') key = key ? `${key}.${e.params.missingProperty}` : e.params.missingProperty;
      const value = getPath(raw, key);
      const source = sources.get(key) ?? 'pave.yaml';
      let fix: string;
      switch (e.keyword) {
        case 'additionalProperties':
          fix = `remove "${key}": it is not a Pave setting (check the spelling against the README's configuration section)`;
          break;
        case 'required':
          fix = `add "${key}"`;
          break;
        case 'enum':
          fix = `set it to one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
          break;
        case 'type':
          fix = `set it to a value of type ${e.params.type}`;
          break;
        case 'pattern':
          fix = `set it to a value matching ${e.params.pattern}`;
          break;
        default:
          fix = `it ${e.message}`;
      }
      return { key, value, source, rule: e.keyword, message: `${key} = ${JSON.stringify(value)} (from ${source}) is invalid: ${fix}` };
    });
  return new PaveError('CONFIG_INVALID', 500, `Invalid configuration:\n  ${problems.map((p) => p.message).join('\n  ')}`, { problems });
}
