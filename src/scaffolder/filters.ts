import { badInput } from '../core/errors.ts';

/**
 * The filters Backstage's scaffolder adds to nunjucks (`parseRepoUrl`, `parseEntityRef`, `pick`,
 * `projectSlug`), with Backstage's outputs and error messages, and the metadata
 * `GET /v2/templating-extensions` lists for them.
 */

/**
 * Property names that lead from a template value to JavaScript internals (`Function`, prototypes).
 * Templates may not look them up, by any route: `expressions.ts` refuses them in the syntax tree and
 * at run time, and `pick` refuses them in its path.
 */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** What Backstage's `RepoUrlPicker` value `host?owner=…&repo=…` stands for. */
export interface RepoSpec {
  host: string;
  owner?: string;
  repo: string;
  organization?: string;
  workspace?: string;
  project?: string;
}

/**
 * SCM host → integration type. These are the integrations Backstage configures when
 * `integrations:` is empty (`ScmIntegrations.fromConfig` in `@backstage/integration`); the type
 * decides which query parameters `parseRepoUrl` requires.
 */
export const DEFAULT_SCM_HOSTS: Readonly<Record<string, string>> = {
  'github.com': 'github',
  'gitlab.com': 'gitlab',
  'bitbucket.org': 'bitbucketCloud',
  'dev.azure.com': 'azure',
  'amazonaws.com': 'awsS3',
  'blob.core.windows.net': 'azureBlobStorage',
  'storage.cloud.google.com': 'googleGcs',
  // Pave's own git server, as RepoUrlPicker names it (allowedHosts: [pave]).
  pave: 'pave',
};

/**
 * The hosts the template filters know: Backstage's defaults and every host configured under
 * pave.yaml's `integrations` (added at start), as Backstage's filters read its integrations.
 * It only grows: a host known to one Pave in this process is known to all of them.
 */
const knownScmHosts: Record<string, string> = { ...DEFAULT_SCM_HOSTS };

export function addScmHosts(hosts: Readonly<Record<string, string>>): void {
  Object.assign(knownScmHosts, hosts);
}

/** Query parameters each integration type needs (any other type: `repo` and `owner`). */
const REQUIRED_PARAMS: Record<string, string[]> = {
  bitbucketCloud: ['workspace', 'project', 'repo'],
  bitbucketServer: ['project', 'repo'],
  azure: ['project', 'repo'],
  gitea: ['repo'],
  gerrit: ['repo'],
};

const REPO_PARAMS = ['owner', 'organization', 'workspace', 'project', 'repo'] as const;

/**
 * Parses a `RepoUrlPicker` value (`github.com?owner=backstage&repo=backstage`) as Backstage's
 * `parseRepoUrl` does: the host must belong to a known integration, the parameters that
 * integration needs must be present, and leading or trailing `/` are trimmed from each parameter.
 */
export function parseRepoUrl(repoUrl: string, scmHosts: Readonly<Record<string, string>> = DEFAULT_SCM_HOSTS): RepoSpec {
  let url: URL;
  try {
    url = new URL(`https://${repoUrl}`);
  } catch (error) {
    throw badInput('REPO_URL_INVALID', `Invalid repo URL passed to publisher, got ${repoUrl}, ${String(error)}`, { repoUrl });
  }
  const host = url.host;
  const type = Object.hasOwn(scmHosts, host) ? scmHosts[host] : undefined;
  if (!type) {
    throw badInput(
      'REPO_URL_UNKNOWN_HOST',
      `No matching integration configuration for host ${host}, please check your integrations config`,
      { repoUrl, host, knownHosts: Object.keys(scmHosts) },
    );
  }
  const params: Partial<Record<(typeof REPO_PARAMS)[number], string>> = {};
  for (const name of REPO_PARAMS) {
    const value = url.searchParams.get(name);
    if (value !== null) params[name] = value.replace(/^\/+|\/+$/g, '');
  }
  // GitLab accepts a numeric project id in place of owner and repo.
  const required = type === 'gitlab' ? (params.project ? [] : ['owner', 'repo']) : (REQUIRED_PARAMS[type] ?? ['repo', 'owner']);
  for (const name of required) {
    if (!url.searchParams.get(name)) {
      throw badInput('REPO_URL_INVALID', `Invalid repo URL passed to publisher: ${url.toString()}, missing ${name}`, {
        repoUrl,
        integration: type,
        missing: name,
      });
    }
  }
  return {
    host,
    owner: params.owner,
    repo: params.repo as string,
    organization: params.organization,
    workspace: params.workspace,
    project: params.project,
  };
}

/** `owner/repo` of a `RepoUrlPicker` value, as Backstage's `projectSlug` filter prints it. */
export function projectSlug(repoUrl: string, scmHosts: Readonly<Record<string, string>> = DEFAULT_SCM_HOSTS): string {
  const { owner, repo } = parseRepoUrl(repoUrl, scmHosts);
  return `${owner}/${repo}`;
}

export interface CompoundEntityRef {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * `@backstage/catalog-model`'s `parseEntityRef`, which the filter of that name calls: a string
 * `[kind:][namespace/]name` or an object `{ kind?, namespace?, name }`, completed from the context.
 * Kind and namespace keep their case. (Kept here rather than loading the model package at run time;
 * the tests compare it with the package case by case.)
 */
export function parseEntityRef(
  ref: unknown,
  context?: { defaultKind?: string; defaultNamespace?: string } | null,
): CompoundEntityRef {
  if (!ref) throw new Error('Entity reference must not be empty');
  const defaultKind = context?.defaultKind;
  const defaultNamespace = context?.defaultNamespace || 'default';
  let parts: { kind?: string; namespace?: string; name?: string };
  if (typeof ref === 'string') {
    let colon = ref.indexOf(':');
    const slash = ref.indexOf('/');
    // A slash before the first colon belongs to the name: `a/b:c` has no kind.
    if (slash !== -1 && slash < colon) colon = -1;
    const kind = colon === -1 ? undefined : ref.slice(0, colon);
    const namespace = slash === -1 ? undefined : ref.slice(colon + 1, slash);
    const name = ref.slice(Math.max(colon + 1, slash + 1));
    if (kind === '' || namespace === '' || name === '') {
      throw new TypeError(`Entity reference "${ref}" was not on the form [<kind>:][<namespace>/]<name>`);
    }
    parts = { kind, namespace, name };
  } else {
    parts = ref as { kind?: string; namespace?: string; name?: string };
  }
  const kind = parts.kind ?? defaultKind;
  const namespace = parts.namespace ?? defaultNamespace;
  const name = parts.name;
  const textual = JSON.stringify(ref);
  if (!kind) {
    throw new Error(`Entity reference ${textual} had missing or empty kind (e.g. did not start with "component:" or similar)`);
  }
  if (!namespace) throw new Error(`Entity reference ${textual} had missing or empty namespace`);
  if (!name) throw new Error(`Entity reference ${textual} had missing or empty name`);
  return { kind, namespace, name };
}

/**
 * Splits a property path the way lodash's `get` (behind Backstage's `pick`) reads it:
 * `a.b`, `a[0]`, `a["b.c"]`, `a['b']`, `a..b` (an empty key); a path that is itself a key of the
 * object is taken whole.
 */
function propertyPath(object: unknown, path: unknown): string[] {
  if (Array.isArray(path)) return path.map(String);
  const text = String(path);
  if ((object !== null && object !== undefined && text in Object(object)) || !/[.[]/.test(text)) return [text];
  const keys: string[] = [];
  let key = '';
  let closedBracket = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      if (!closedBracket) keys.push(key);
      key = '';
      closedBracket = false;
      i += 1;
    } else if (ch === '[') {
      if (key !== '') keys.push(key);
      key = '';
      const quote = text[i + 1];
      let j = i + 1;
      let inner = '';
      if (quote === '"' || quote === "'") {
        j += 1;
        while (j < text.length && text[j] !== quote) {
          if (text[j] === '\\' && j + 1 < text.length) j += 1;
          inner += text[j];
          j += 1;
        }
        j += 1; // the closing quote
      } else {
        while (j < text.length && text[j] !== ']') inner += text[j++];
      }
      keys.push(inner);
      closedBracket = true;
      i = j + 1; // past `]`
    } else {
      key += ch;
      closedBracket = false;
      i += 1;
    }
  }
  if (!closedBracket) keys.push(key);
  return keys;
}

/** Backstage's `pick`: the value at a property path (lodash `get`), `undefined` when absent. */
export function pick(object: unknown, path: unknown): unknown {
  const keys = propertyPath(object, path);
  const unsafe = keys.find((k) => UNSAFE_KEYS.has(k));
  if (unsafe !== undefined) {
    throw badInput('TEMPLATE_EXPRESSION_FORBIDDEN', `pick(${JSON.stringify(path)}) reaches "${unsafe}", which templates may not look up`, {
      path,
      key: unsafe,
    });
  }
  let value: unknown = object;
  for (const key of keys) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The filters, by name, as templates call them (`value | name(args…)`). */
export const TEMPLATE_FILTERS: Record<string, (...args: any[]) => unknown> = {
  parseRepoUrl: (repoUrl: string) => parseRepoUrl(repoUrl, knownScmHosts),
  parseEntityRef: (ref: unknown, context?: { defaultKind?: string; defaultNamespace?: string } | null) => parseEntityRef(ref, context),
  pick: (object: unknown, path: unknown) => pick(object, path),
  projectSlug: (repoUrl: string) => projectSlug(repoUrl, knownScmHosts),
};

export interface TemplateFilterInfo {
  description: string;
  schema?: unknown;
  examples: { description?: string; example: string; notes?: string }[];
}

export interface TemplatingExtensions {
  filters: Record<string, TemplateFilterInfo>;
  globals: { functions: Record<string, unknown>; values: Record<string, unknown> };
}

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** Builds a debug:log step around an expression, the form Backstage's filter examples take. */
function logStep(name: string, expression: string): string {
  return ['- id: log', `  name: ${name}`, '  action: debug:log', '  input:', `    message: ${expression}`].join('\n');
}

/**
 * Notes in a fixed form (`- **Input**: \`…\``, optional `- **Arguments**: \`…\``,
 * `- **Output**: \`…\``) so that each example can be run and checked: the input is the value of the
 * parameter the expression reads, and the output is JSON.
 */
function notes(input: string, output: unknown, args?: unknown[]): string {
  const lines = [`- **Input**: \`${input}\``];
  if (args) lines.push(`- **Arguments**: \`${JSON.stringify(args)}\``);
  lines.push(`- **Output**: \`${JSON.stringify(output)}\``);
  return `${lines.join('\n')}\n`;
}

const REPO_SPEC_SCHEMA = {
  type: 'object',
  properties: {
    repo: { type: 'string' },
    host: { type: 'string' },
    owner: { type: 'string' },
    organization: { type: 'string' },
    workspace: { type: 'string' },
    project: { type: 'string' },
  },
  required: ['repo', 'host'],
  additionalProperties: false,
  description: '`RepoSpec`',
  $schema: DRAFT_07,
};

const COMPOUND_ENTITY_REF_SCHEMA = {
  type: 'object',
  properties: { kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' } },
  required: ['kind', 'namespace', 'name'],
  additionalProperties: false,
  description: '`CompoundEntityRef`',
  $schema: DRAFT_07,
};

const REPO_URL_INPUT = { type: 'string', description: 'repo URL as collected from repository picker', $schema: DRAFT_07 };

const FILTER_INFO: Record<string, TemplateFilterInfo> = {
  parseRepoUrl: {
    description: 'Parses a repository URL into its constituent parts: owner, repository name, etc.',
    schema: { input: REPO_URL_INPUT, output: REPO_SPEC_SCHEMA },
    examples: [
      {
        example: logStep('Parse Repo URL', '${{ parameters.repoUrl | parseRepoUrl }}'),
        notes: notes('github.com?repo=backstage&owner=backstage', { host: 'github.com', owner: 'backstage', repo: 'backstage' }),
      },
    ],
  },
  parseEntityRef: {
    description: 'Extracts the parts of an entity reference, such as the kind, namespace, and name.',
    schema: {
      input: {
        anyOf: [
          { type: 'string', description: 'compact entity reference' },
          {
            type: 'object',
            properties: { kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' } },
            required: ['name'],
            additionalProperties: false,
            description: '`CompoundEntityRef`',
          },
        ],
        $schema: DRAFT_07,
      },
      arguments: [
        {
          type: 'object',
          properties: {
            defaultKind: { type: 'string', description: 'The default kind, if none is given in the reference' },
            defaultNamespace: { type: 'string', description: 'The default namespace, if none is given in the reference' },
          },
          additionalProperties: false,
          $schema: DRAFT_07,
        },
      ],
      output: COMPOUND_ENTITY_REF_SCHEMA,
    },
    examples: [
      {
        description: 'Without context',
        example: logStep('Parse Entity Reference', '${{ parameters.owner | parseEntityRef }}'),
        notes: notes('group:techdocs', { kind: 'group', namespace: 'default', name: 'techdocs' }),
      },
      {
        description: 'With context',
        example: logStep(
          'Parse Entity Reference',
          '${{ parameters.owner | parseEntityRef({ defaultKind:"group", defaultNamespace:"another-namespace" }) }}',
        ),
        notes: notes('techdocs', { kind: 'group', namespace: 'another-namespace', name: 'techdocs' }, [
          { defaultKind: 'group', defaultNamespace: 'another-namespace' },
        ]),
      },
    ],
  },
  pick: {
    description: 'Selects a specific property (e.g. kind, namespace, name) from an object.',
    schema: {
      input: { $schema: DRAFT_07 },
      arguments: [{ type: 'string', description: 'Property', $schema: DRAFT_07 }],
      output: { description: 'Selected property', $schema: DRAFT_07 },
    },
    examples: [
      {
        example: logStep('Pick', "${{ parameters.owner | parseEntityRef | pick('name') }}"),
        notes: notes('group:default/techdocs', 'techdocs', ['name']),
      },
    ],
  },
  projectSlug: {
    description: 'Generates a project slug from a repository URL.',
    schema: { input: REPO_URL_INPUT, output: { type: 'string', $schema: DRAFT_07 } },
    examples: [
      {
        example: logStep('Project Slug', '${{ parameters.repoUrl | projectSlug }}'),
        notes: notes('github.com?repo=backstage&owner=backstage', 'backstage/backstage'),
      },
    ],
  },
};

/** The body of Backstage's `GET /v2/templating-extensions` for Pave's filters (Pave adds no globals). */
export function listTemplatingExtensions(): TemplatingExtensions {
  return { filters: structuredClone(FILTER_INFO), globals: { functions: {}, values: {} } };
}
