// RJSF's ajv8 validator, with a JSON Schema engine that interprets schemas instead of compiling
// them: Ajv compiles each schema to code with `new Function`, which Pave's Content-Security-Policy
// (`script-src 'self'`, no 'unsafe-eval') forbids in the portal. This engine answers Ajv's error
// objects (same keywords, params and messages), so RJSF's error handling is unchanged.
// It covers JSON Schema draft-07 as templates use it: types, enum/const, strings, numbers,
// objects (properties, required, additionalProperties, dependencies), arrays, allOf/anyOf/oneOf/
// not, if/then/else and $ref into the form's root schema.
import { customizeValidator } from '@rjsf/validator-ajv8';
import { deepEquals } from '@rjsf/utils';

type Schema = Record<string, unknown> | boolean;

/** An error as Ajv reports it (`allErrors`, `verbose`). */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
  schema?: unknown;
  parentSchema?: Record<string, unknown>;
  data?: unknown;
}

type ValidateFunction = ((data: unknown) => boolean) & { errors: SchemaError[] | null; schema: Schema };

const FORMATS: Record<string, RegExp> = {
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:[^\s]*$/i,
  url: /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  time: /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$/i,
  'date-time': /^\d{4}-\d{2}-\d{2}[t\s]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?$/i,
  hostname: /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
  ipv4: /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return typeOf(v) === type;
  }
}

const regexps = new Map<string, RegExp>();
function regexp(pattern: string): RegExp {
  let re = regexps.get(pattern);
  if (!re) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = new RegExp(pattern);
    }
    regexps.set(pattern, re);
  }
  return re;
}

/** A JSON pointer (`/definitions/x`) inside a schema. */
function pointer(root: unknown, ptr: string): unknown {
  let node = root;
  for (const raw of ptr.split('/').filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Validates by walking the schema; `schemas` resolves `$ref`s to other registered schemas. */
class Interpreter {
  constructor(
    private readonly schemas: Map<string, Schema>,
    private readonly formats: Map<string, RegExp | ((v: string) => boolean)>,
  ) {}

  run(schema: Schema, data: unknown): SchemaError[] {
    const errors: SchemaError[] = [];
    this.check(schema, data, '', '#', schema, errors, 0);
    return errors;
  }

  private resolve(ref: string, root: Schema): { schema: Schema; root: Schema } | undefined {
    const hash = ref.indexOf('#');
    const id = hash < 0 ? ref : ref.slice(0, hash);
    const ptr = hash < 0 ? '' : ref.slice(hash + 1);
    const base = id ? this.schemas.get(id) : root;
    if (base === undefined) return undefined;
    const target = ptr ? pointer(base, ptr) : base;
    return isObject(target) || typeof target === 'boolean' ? { schema: target, root: base } : undefined;
  }

  private check(schema: Schema, data: unknown, at: string, sp: string, root: Schema, errors: SchemaError[], depth: number): void {
    if (schema === true || depth > 64) return;
    const add = (keyword: string, params: Record<string, unknown>, message: string, path = at) =>
      errors.push({ instancePath: path, schemaPath: `${sp}/${keyword}`, keyword, params, message, schema: isObject(schema) ? schema[keyword] : schema, parentSchema: isObject(schema) ? schema : undefined, data });
    if (schema === false) {
      errors.push({ instancePath: at, schemaPath: sp, keyword: 'false schema', params: {}, message: 'boolean schema is false', data });
      return;
    }
    const s = schema;

    if (typeof s.$ref === 'string') {
      const target = this.resolve(s.$ref, root);
      if (!target) throw new Error(`can't resolve reference ${s.$ref}`);
      this.check(target.schema, data, at, `${sp}/$ref`, target.root, errors, depth + 1);
    }

    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => hasType(data, t))) {
        add('type', { type: types.join(',') }, `must be ${types.join(',')}`);
        return;
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((e) => deepEquals(e, data))) add('enum', { allowedValues: s.enum }, 'must be equal to one of the allowed values');
    if ('const' in s && !deepEquals(s.const, data)) add('const', { allowedValue: s.const }, 'must be equal to constant');

    if (typeof data === 'string') this.checkString(s, data, add);
    if (typeof data === 'number') this.checkNumber(s, data, add);
    if (isObject(data)) this.checkObject(s, data, at, sp, root, errors, depth, add);
    if (Array.isArray(data)) this.checkArray(s, data, at, sp, root, errors, depth, add);

    if (Array.isArray(s.allOf)) s.allOf.forEach((sub, i) => this.check(sub as Schema, data, at, `${sp}/allOf/${i}`, root, errors, depth + 1));
    if (Array.isArray(s.anyOf)) {
      const tried = s.anyOf.map((sub, i) => this.sub(sub as Schema, data, at, `${sp}/anyOf/${i}`, root, depth));
      if (!tried.some((e) => e.length === 0)) {
        tried.forEach((e) => errors.push(...e));
        add('anyOf', {}, 'must match a schema in anyOf');
      }
    }
    if (Array.isArray(s.oneOf)) {
      const tried = s.oneOf.map((sub, i) => this.sub(sub as Schema, data, at, `${sp}/oneOf/${i}`, root, depth));
      const passing = tried.map((e, i) => (e.length === 0 ? i : -1)).filter((i) => i >= 0);
      if (passing.length !== 1) {
        if (passing.length === 0) tried.forEach((e) => errors.push(...e));
        add('oneOf', { passingSchemas: passing.length ? passing : null }, 'must match exactly one schema in oneOf');
      }
    }
    if (s.not !== undefined && this.sub(s.not as Schema, data, at, `${sp}/not`, root, depth).length === 0) add('not', {}, 'must NOT be valid');
    if (s.if !== undefined && (s.then !== undefined || s.else !== undefined)) {
      const branch = this.sub(s.if as Schema, data, at, `${sp}/if`, root, depth).length === 0 ? 'then' : 'else';
      if (s[branch] !== undefined) {
        const e = this.sub(s[branch] as Schema, data, at, `${sp}/${branch}`, root, depth);
        if (e.length) {
          errors.push(...e);
          add('if', { failingKeyword: branch }, `must match "${branch}" schema`);
        }
      }
    }
  }

  private sub(schema: Schema, data: unknown, at: string, sp: string, root: Schema, depth: number): SchemaError[] {
    const errors: SchemaError[] = [];
    this.check(schema, data, at, sp, root, errors, depth + 1);
    return errors;
  }

  private checkString(s: Record<string, unknown>, data: string, add: (k: string, p: Record<string, unknown>, m: string) => void) {
    const length = [...data].length;
    if (typeof s.minLength === 'number' && length < s.minLength) add('minLength', { limit: s.minLength }, `must NOT have fewer than ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) add('maxLength', { limit: s.maxLength }, `must NOT have more than ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !regexp(s.pattern).test(data)) add('pattern', { pattern: s.pattern }, `must match pattern "${s.pattern}"`);
    if (typeof s.format === 'string') {
      const format = this.formats.get(s.format);
      const ok = format === undefined || (typeof format === 'function' ? format(data) : format.test(data));
      if (!ok) add('format', { format: s.format }, `must match format "${s.format}"`);
    }
  }

  private checkNumber(s: Record<string, unknown>, data: number, add: (k: string, p: Record<string, unknown>, m: string) => void) {
    const limit = (keyword: string, comparison: string, fails: boolean, value: unknown) => {
      if (fails) add(keyword, { comparison, limit: value }, `must be ${comparison} ${String(value)}`);
    };
    if (typeof s.minimum === 'number') {
      if (s.exclusiveMinimum === true) limit('exclusiveMinimum', '>', data <= s.minimum, s.minimum);
      else limit('minimum', '>=', data < s.minimum, s.minimum);
    }
    if (typeof s.maximum === 'number') {
      if (s.exclusiveMaximum === true) limit('exclusiveMaximum', '<', data >= s.maximum, s.maximum);
      else limit('maximum', '<=', data > s.maximum, s.maximum);
    }
    if (typeof s.exclusiveMinimum === 'number') limit('exclusiveMinimum', '>', data <= s.exclusiveMinimum, s.exclusiveMinimum);
    if (typeof s.exclusiveMaximum === 'number') limit('exclusiveMaximum', '<', data >= s.exclusiveMaximum, s.exclusiveMaximum);
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0) {
      const q = data / s.multipleOf;
      if (Math.abs(q - Math.round(q)) > 1e-8) add('multipleOf', { multipleOf: s.multipleOf }, `must be multiple of ${s.multipleOf}`);
    }
  }

  private checkObject(
    s: Record<string, unknown>,
    data: Record<string, unknown>,
    at: string,
    sp: string,
    root: Schema,
    errors: SchemaError[],
    depth: number,
    add: (k: string, p: Record<string, unknown>, m: string, path?: string) => void,
  ) {
    const keys = Object.keys(data).filter((k) => data[k] !== undefined);
    if (Array.isArray(s.required)) {
      for (const name of s.required as string[]) if (data[name] === undefined) add('required', { missingProperty: name }, `must have required property '${name}'`);
    }
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) add('minProperties', { limit: s.minProperties }, `must NOT have fewer than ${s.minProperties} properties`);
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) add('maxProperties', { limit: s.maxProperties }, `must NOT have more than ${s.maxProperties} properties`);
    const properties = isObject(s.properties) ? s.properties : {};
    const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : [];
    for (const key of keys) {
      const childAt = `${at}/${escapePointer(key)}`;
      let known = false;
      if (key in properties) {
        known = true;
        this.check(properties[key] as Schema, data[key], childAt, `${sp}/properties/${escapePointer(key)}`, root, errors, depth + 1);
      }
      for (const [pattern, sub] of patterns) {
        if (regexp(pattern).test(key)) {
          known = true;
          this.check(sub as Schema, data[key], childAt, `${sp}/patternProperties/${escapePointer(pattern)}`, root, errors, depth + 1);
        }
      }
      if (!known && s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) add('additionalProperties', { additionalProperty: key }, 'must NOT have additional properties');
        else this.check(s.additionalProperties as Schema, data[key], childAt, `${sp}/additionalProperties`, root, errors, depth + 1);
      }
      if (s.propertyNames !== undefined) this.check(s.propertyNames as Schema, key, at, `${sp}/propertyNames`, root, errors, depth + 1);
    }
    const dependencies = { ...(isObject(s.dependencies) ? s.dependencies : {}), ...(isObject(s.dependentRequired) ? s.dependentRequired : {}), ...(isObject(s.dependentSchemas) ? s.dependentSchemas : {}) };
    for (const [name, dep] of Object.entries(dependencies)) {
      if (data[name] === undefined) continue;
      if (Array.isArray(dep)) {
        const missing = (dep as string[]).filter((d) => data[d] === undefined);
        for (const m of missing) {
          add('dependencies', { property: name, missingProperty: m, depsCount: dep.length, deps: (dep as string[]).join(', ') }, `must have propert${dep.length === 1 ? 'y' : 'ies'} ${(dep as string[]).join(', ')} when property ${name} is present`);
        }
      } else {
        this.check(dep as Schema, data, at, `${sp}/dependencies/${escapePointer(name)}`, root, errors, depth + 1);
      }
    }
  }

  private checkArray(
    s: Record<string, unknown>,
    data: unknown[],
    at: string,
    sp: string,
    root: Schema,
    errors: SchemaError[],
    depth: number,
    add: (k: string, p: Record<string, unknown>, m: string) => void,
  ) {
    if (typeof s.minItems === 'number' && data.length < s.minItems) add('minItems', { limit: s.minItems }, `must NOT have fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && data.length > s.maxItems) add('maxItems', { limit: s.maxItems }, `must NOT have more than ${s.maxItems} items`);
    if (s.uniqueItems === true) {
      outer: for (let j = data.length - 1; j > 0; j--) {
        for (let i = j - 1; i >= 0; i--) {
          if (deepEquals(data[i], data[j])) {
            add('uniqueItems', { i, j }, `must NOT have duplicate items (items ## ${j} and ${i} are identical)`);
            break outer;
          }
        }
      }
    }
    if (Array.isArray(s.items)) {
      const tuple = s.items as Schema[];
      data.forEach((item, i) => {
        if (i < tuple.length) this.check(tuple[i]!, item, `${at}/${i}`, `${sp}/items/${i}`, root, errors, depth + 1);
        else if (s.additionalItems === false) add('additionalItems', { limit: tuple.length }, `must NOT have more than ${tuple.length} items`);
        else if (s.additionalItems !== undefined) this.check(s.additionalItems as Schema, item, `${at}/${i}`, `${sp}/additionalItems`, root, errors, depth + 1);
      });
    } else if (s.items !== undefined) {
      data.forEach((item, i) => this.check(s.items as Schema, item, `${at}/${i}`, `${sp}/items`, root, errors, depth + 1));
    }
    if (s.contains !== undefined && !data.some((item, i) => this.sub(s.contains as Schema, item, `${at}/${i}`, `${sp}/contains`, root, depth).length === 0)) {
      add('contains', { minContains: 1 }, 'must contain at least 1 valid item(s)');
    }
  }
}

/** The part of Ajv's API that RJSF's ajv8 validator uses, over the interpreter. */
class InterpretedAjv {
  private readonly schemas = new Map<string, Schema>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly formats = new Map<string, RegExp | ((v: string) => boolean)>(Object.entries(FORMATS));
  private readonly engine = new Interpreter(this.schemas, this.formats);

  compile(schema: Schema): ValidateFunction {
    const engine = this.engine;
    const validate = ((data: unknown) => {
      const errors = engine.run(schema, data);
      validate.errors = errors.length ? errors : null;
      return errors.length === 0;
    }) as ValidateFunction;
    validate.errors = null;
    validate.schema = schema;
    return validate;
  }

  addSchema(schema: Schema, key?: string): this {
    const id = key ?? (isObject(schema) && typeof schema.$id === 'string' ? schema.$id : undefined);
    if (id) {
      this.schemas.set(id, schema);
      this.validators.set(id, this.compile(schema));
    }
    return this;
  }

  getSchema(key: string): ValidateFunction | undefined {
    return this.validators.get(key);
  }

  removeSchema(key?: string | Schema): this {
    if (key === undefined) {
      this.schemas.clear();
      this.validators.clear();
    } else if (typeof key === 'string') {
      this.schemas.delete(key);
      this.validators.delete(key);
    }
    return this;
  }

  addFormat(name: string, format: RegExp | string | ((v: string) => boolean)): this {
    this.formats.set(name, typeof format === 'string' ? new RegExp(format) : format);
    return this;
  }

  addKeyword(): this {
    return this;
  }

  addMetaSchema(): this {
    return this;
  }
}

/** RJSF's ajv8 validator over the interpreter: what the portal's forms validate with. */
export const formValidator = customizeValidator({ AjvClass: InterpretedAjv as never, ajvFormatOptions: false });
