import type { Entity } from '@backstage/catalog-model';
import { Ajv, type ValidateFunction } from 'ajv';
import type { CustomKind } from '../core/config.ts';

/** Why an entity was refused: enough to fix it without reading Pave's source. */
export interface EntityProblem {
  code: 'ENTITY_INVALID' | 'ENTITY_KIND_UNKNOWN';
  message: string;
  /** The field at fault, as a dot path (`metadata.name`, `spec.owner`). */
  field?: string;
  value?: unknown;
  /** What the field must be. */
  rule?: string;
}

interface Rules {
  policies: { enforce(entity: Entity): Promise<Entity | undefined> };
  validators: { check(entity: Entity): Promise<boolean> }[];
}

let rules: Promise<Rules> | undefined;

/**
 * Backstage's own rules. Loading them costs about half a second, so it happens on first use
 * (and in the background after start) rather than before the server can answer.
 */
export function loadRules(): Promise<Rules> {
  rules ??= (async () => {
    const m = await import('@backstage/catalog-model');
    const { templateEntityV1beta3Validator } = await import('@backstage/plugin-scaffolder-common');
    return {
      // The same policies, in the same order, that Backstage's catalog applies before any kind check.
      policies: m.EntityPolicies.allOf([
        new m.DefaultNamespaceEntityPolicy(),
        new m.NoForeignRootFieldsEntityPolicy(),
        new m.FieldFormatEntityPolicy(),
        new m.SchemaValidEntityPolicy(),
      ]),
      validators: [
        m.apiEntityV1alpha1Validator,
        m.componentEntityV1alpha1Validator,
        m.domainEntityV1alpha1Validator,
        m.groupEntityV1alpha1Validator,
        m.locationEntityV1alpha1Validator,
        m.resourceEntityV1alpha1Validator,
        m.systemEntityV1alpha1Validator,
        m.userEntityV1alpha1Validator,
        templateEntityV1beta3Validator,
      ],
    };
  })();
  return rules;
}

export const BUILTIN_KINDS = ['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User', 'Location', 'Template'];

interface CompiledKind {
  kind: string;
  apiVersions: string[];
  validate: ValidateFunction;
}

/**
 * Validates entities exactly as Backstage's catalog does (its own policies and kind validators),
 * plus the kinds the platform team registered in pave.yaml with a JSON Schema.
 */
export class EntityValidator {
  private readonly custom: CompiledKind[];
  private readonly checks = new Map<string, ((entity: Entity) => EntityProblem | undefined)[]>();

  constructor(customKinds: CustomKind[] = []) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    this.custom = customKinds.map((k) => ({ kind: k.kind, apiVersions: k.apiVersions, validate: ajv.compile(k.schema) }));
  }

  /**
   * A capability's own rules for a kind, run after the entity passed Backstage's (the scaffolder
   * checks a Template's steps and expressions, so a typo is refused at registration).
   */
  addCheck(kind: string, check: (entity: Entity) => EntityProblem | undefined): void {
    const key = kind.toLowerCase();
    this.checks.set(key, [...(this.checks.get(key) ?? []), check]);
  }

  private extraChecks(entity: Entity): { entity: Entity } | { problem: EntityProblem } {
    for (const check of this.checks.get(entity.kind.toLowerCase()) ?? []) {
      const problem = check(entity);
      if (problem) return { problem };
    }
    return { entity };
  }

  /** Returns the entity with defaults applied (namespace), or the problem that refuses it. */
  async validate(input: unknown): Promise<{ entity: Entity } | { problem: EntityProblem }> {
    const { policies, validators } = await loadRules();
    let entity: Entity | undefined;
    try {
      entity = await policies.enforce(structuredClone(input) as Entity);
    } catch (e) {
      return { problem: describe(e, input) };
    }
    if (!entity) return { problem: { code: 'ENTITY_INVALID', message: 'The entity was refused by the catalog policies' } };
    for (const v of validators) {
      try {
        if (await v.check(entity)) return this.extraChecks(entity);
      } catch (e) {
        return { problem: describe(e, entity) };
      }
    }
    const custom = this.custom.find((k) => k.kind.toLowerCase() === entity!.kind.toLowerCase());
    if (custom) {
      if (custom.apiVersions.length && !custom.apiVersions.includes(entity.apiVersion)) {
        return {
          problem: {
            code: 'ENTITY_INVALID',
            message: `apiVersion "${entity.apiVersion}" is not one registered for kind ${custom.kind}; expected one of ${custom.apiVersions.join(', ')}`,
            field: 'apiVersion',
            value: entity.apiVersion,
            rule: `one of ${custom.apiVersions.join(', ')}`,
          },
        };
      }
      if (!custom.validate(entity)) {
        const err = custom.validate.errors![0];
        const at = err.instancePath.slice(1).replace(/\//g, '.');
        const missing = err.keyword === 'required' ? String(err.params.missingProperty) : '';
        const field = (missing ? (at ? `${at}.${missing}` : missing) : at) || '(entity)';
        return {
          problem: {
            code: 'ENTITY_INVALID',
            message: `${field} ${err.message} (schema of kind ${custom.kind} registered in pave.yaml)`,
            field,
            value: getPath(entity, field),
            rule: `${err.keyword}: ${JSON.stringify(err.params)}`,
          },
        };
      }
      return this.extraChecks(entity);
    }
    if (BUILTIN_KINDS.includes(entity.kind)) {
      // A built-in kind that no validator took: its apiVersion is the one at fault.
      const versions = entity.kind === 'Template' ? ['scaffolder.backstage.io/v1beta3'] : ['backstage.io/v1alpha1', 'backstage.io/v1beta1'];
      return {
        problem: {
          code: 'ENTITY_KIND_UNKNOWN',
          message: `Unsupported apiVersion "${entity.apiVersion}" for kind ${entity.kind}; use ${versions.join(' or ')}`,
          field: 'apiVersion',
          value: entity.apiVersion,
          rule: `one of ${versions.join(', ')}`,
        },
      };
    }
    return {
      problem: {
        code: 'ENTITY_KIND_UNKNOWN',
        message: `Unsupported kind "${entity.kind}" with apiVersion "${entity.apiVersion}": no processor knows it. Use one of ${BUILTIN_KINDS.join(', ')}, or register the kind with a JSON Schema under catalog.kinds in pave.yaml`,
        field: 'kind',
        value: entity.kind,
        rule: `one of ${[...BUILTIN_KINDS, ...this.custom.map((k) => k.kind)].join(', ')}`,
      },
    };
  }
}

function getPath(obj: any, dotPath: string): unknown {
  return dotPath.split('.').reduce((o, p) => (o == null ? undefined : o[p]), obj);
}

/** Turns Backstage's error texts into field, value and rule. */
function describe(e: unknown, entity: any): EntityProblem {
  const message = (e instanceof Error ? e.message : String(e))
    .replace(/ To learn more about catalog file format.*$/s, '')
    .replace(/^Malformed envelope, /, '');
  // FieldFormatEntityPolicy names labels, annotations, tags and links without their `metadata.`.
  const toField = (raw: string) => (/^(labels|annotations|tags|links)\./.test(raw) ? `metadata.${raw}` : raw);
  if (entity === null || typeof entity !== 'object' || Array.isArray(entity)) {
    return { code: 'ENTITY_INVALID', message: 'Expected an entity: a mapping with apiVersion, kind, metadata and spec', field: '(entity)', value: entity, rule: 'an object' };
  }
  if (entity.metadata === null || typeof entity.metadata !== 'object' || Array.isArray(entity.metadata)) {
    return { code: 'ENTITY_INVALID', message: 'metadata must be a mapping with at least a name', field: 'metadata', value: entity.metadata, rule: 'an object with a name' };
  }
  const format = /^"([^"]+)" is not valid; expected (.*) but found "(.*)"\.?$/s.exec(message);
  if (format) {
    const [, rawField, rule, value] = format;
    return { code: 'ENTITY_INVALID', message, field: toField(rawField), value, rule };
  }
  const missing = /^(.+) (must have a value|could not be validated, .*)$/s.exec(message);
  if (missing) {
    const field = toField(missing[1]);
    return { code: 'ENTITY_INVALID', message: `${field} ${missing[2]}`, field, value: getPath(entity, field), rule: missing[2] };
  }
  const schema = /^(\/[^ ]*|<root>) (.*?)(?: - (\w+): (.*))?$/s.exec(message);
  if (schema) {
    const [, pointer, rule, param, paramValue] = schema;
    let field = pointer === '<root>' ? '' : pointer.slice(1).replace(/\//g, '.');
    if (param === 'missingProperty') field = field ? `${field}.${paramValue}` : paramValue;
    return { code: 'ENTITY_INVALID', message: `${field}: ${rule}`, field, value: getPath(entity, field), rule };
  }
  const foreign = /^Unknown field (.*)$/.exec(message);
  if (foreign) return { code: 'ENTITY_INVALID', message: `${message}: only apiVersion, kind, metadata and spec may stand at the top level`, field: foreign[1], value: getPath(entity, foreign[1]), rule: 'no unknown root fields' };
  return { code: 'ENTITY_INVALID', message };
}
