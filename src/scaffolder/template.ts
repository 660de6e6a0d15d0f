import { Ajv, type ErrorObject } from 'ajv';
import { badInput } from '../core/errors.ts';
import { checkExpressions } from './expressions.ts';

/** A Template entity as the catalog serves it (`scaffolder.backstage.io/v1beta3`). */
export interface TemplateEntity {
  apiVersion: string;
  kind: 'Template';
  metadata: { name: string; namespace?: string; title?: string; description?: string; annotations?: Record<string, string>; [k: string]: unknown };
  spec: {
    type?: string;
    owner?: string;
    parameters?: Record<string, unknown> | Record<string, unknown>[];
    presentation?: Record<string, unknown>;
    steps: TemplateStep[];
    output?: Record<string, unknown>;
    EXPERIMENTAL_recovery?: { EXPERIMENTAL_strategy?: 'none' | 'startOver' };
    EXPERIMENTAL_formDecorators?: unknown[];
    formDecorators?: unknown[];
  };
}

export interface TemplateStep {
  id?: string;
  name?: string;
  action: string;
  input?: Record<string, unknown>;
  if?: string | boolean;
  each?: string | unknown[];
}

export interface TemplateProblem {
  code: 'TEMPLATE_INVALID' | 'TEMPLATE_EXPRESSION_INVALID' | 'TEMPLATE_EXPRESSION_FORBIDDEN' | 'TEMPLATE_ACTION_UNKNOWN';
  message: string;
  /** A dot path into the entity (`spec.steps.2.input.url`), which the catalog turns into a line and column. */
  field: string;
  value?: unknown;
  rule?: string;
}

/**
 * The JSON Schema validator of the scaffolder, for form pages and action inputs alike: ui:* hints
 * and Backstage's own keywords are not JSON Schema, so they must not break compiling.
 */
export const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/** The pages of the form: `parameters` may be one schema or a list of pages. */
export function parameterPages(template: TemplateEntity): Record<string, unknown>[] {
  const p = template.spec.parameters;
  if (!p) return [];
  return Array.isArray(p) ? p : [p];
}

/**
 * Checks a Template beyond its schema, at registration: each step names a known action, ids are
 * unique, every `${{ }}` parses and reads nothing forbidden, each parameter page is a JSON Schema.
 * The first problem is returned, naming the step id, the field and (through the catalog) its position.
 */
export function checkTemplate(template: TemplateEntity, knownActions: ReadonlySet<string>): TemplateProblem | undefined {
  const seen = new Set<string>();
  for (const [i, page] of parameterPages(template).entries()) {
    try {
      validatorOf(page);
    } catch (e) {
      return { code: 'TEMPLATE_INVALID', message: `spec.parameters[${i}] is not a valid JSON Schema: ${(e as Error).message}`, field: `spec.parameters.${i}`, rule: 'a JSON Schema' };
    }
  }
  for (const [i, step] of (template.spec.steps ?? []).entries()) {
    const label = step.id ? `step "${step.id}"` : `step ${i + 1}`;
    if (step.id) {
      if (seen.has(step.id)) return { code: 'TEMPLATE_INVALID', message: `${label}: the id is used twice; step ids must be unique`, field: `spec.steps.${i}.id`, value: step.id, rule: 'unique' };
      seen.add(step.id);
    }
    if (!knownActions.has(step.action)) {
      const near = [...knownActions].filter((a) => a.split(':')[0] === String(step.action).split(':')[0]);
      return {
        code: 'TEMPLATE_ACTION_UNKNOWN',
        message: `${label}: no action "${step.action}"${near.length ? `; did you mean ${near.slice(0, 4).join(', ')}?` : ''} (GET /api/scaffolder/v2/actions lists them)`,
        field: `spec.steps.${i}.action`,
        value: step.action,
        rule: 'a registered action',
      };
    }
    for (const part of ['input', 'if', 'each'] as const) {
      if (step[part] === undefined) continue;
      const [problem] = checkExpressions(step[part], `spec.steps.${i}.${part}`);
      if (problem) {
        return {
          code: problem.code,
          message: `${label}: ${problem.message}`,
          field: problem.path.replace(/\[(\d+)\]/g, '.$1'),
          value: problem.expression,
          rule: 'a valid ${{ }} expression',
        };
      }
    }
  }
  if (template.spec.output !== undefined) {
    const [problem] = checkExpressions(template.spec.output, 'spec.output');
    if (problem) {
      return { code: problem.code, message: `${problem.path}: ${problem.message}`, field: problem.path.replace(/\[(\d+)\]/g, '.$1'), value: problem.expression, rule: 'a valid ${{ }} expression' };
    }
  }
  return undefined;
}

export interface ParameterError {
  field: string;
  message: string;
}

/**
 * Checks the values of a run against every page of the form. Missing or invalid parameters are
 * refused with 400, naming each field.
 */
// Compiling a schema costs far more than using it: pages are compiled once per content.
const compiledPages = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorOf(page: Record<string, unknown>) {
  const key = JSON.stringify(page);
  let validate = compiledPages.get(key);
  if (!validate) {
    validate = ajv.compile(page);
    if (compiledPages.size > 500) compiledPages.delete(compiledPages.keys().next().value!);
    compiledPages.set(key, validate);
  }
  return validate;
}

export function checkValues(template: TemplateEntity, values: Record<string, unknown>): void {
  const errors: ParameterError[] = [];
  for (const page of parameterPages(template)) {
    const validate = validatorOf(page);
    if (!validate(values)) errors.push(...(validate.errors ?? []).map(toParameterError));
  }
  if (errors.length) {
    const unique = [...new Map(errors.map((e) => [`${e.field}:${e.message}`, e])).values()];
    throw badInput('TEMPLATE_PARAMETERS_INVALID', `The values do not fit the template's form: ${unique.map((e) => `${e.field} ${e.message}`).join('; ')}`, { errors: unique });
  }
}

function toParameterError(e: ErrorObject): ParameterError {
  const at = e.instancePath.slice(1).replace(/\//g, '.');
  if (e.keyword === 'required') {
    const missing = String(e.params.missingProperty);
    return { field: at ? `${at}.${missing}` : missing, message: 'is required' };
  }
  return { field: at || '(values)', message: e.message ?? 'is invalid' };
}

/** What Backstage's `GET /v2/templates/:ns/:kind/:name/parameter-schema` answers: the form, page by page. */
export function parameterSchema(template: TemplateEntity) {
  return {
    title: template.metadata.title ?? template.metadata.name,
    description: template.metadata.description,
    ...(template.spec.presentation ? { presentation: template.spec.presentation } : {}),
    steps: parameterPages(template).map((page) => ({
      title: (page.title as string | undefined) ?? 'Please enter the following information',
      description: page.description as string | undefined,
      schema: page,
    })),
    ...(template.spec.formDecorators || template.spec.EXPERIMENTAL_formDecorators
      ? { formDecorators: template.spec.formDecorators ?? template.spec.EXPERIMENTAL_formDecorators, EXPERIMENTAL_formDecorators: template.spec.EXPERIMENTAL_formDecorators ?? template.spec.formDecorators }
      : {}),
  };
}

/** Secret fields (`ui:field: Secret`, or `ui:widget: password`) whose values must never be logged. */
export function secretFieldNames(template: TemplateEntity): string[] {
  const names: string[] = [];
  for (const page of parameterPages(template)) {
    for (const [name, prop] of Object.entries((page.properties ?? {}) as Record<string, any>)) {
      if (prop?.['ui:field'] === 'Secret' || prop?.['ui:widget'] === 'password') names.push(name);
    }
  }
  return names;
}
