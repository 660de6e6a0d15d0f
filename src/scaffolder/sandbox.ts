import nunjucks from 'nunjucks';
import { UNSAFE_KEYS } from './filters.ts';

/** The parts of nunjucks' runtime that compiled templates call for every lookup and call. */
export interface NunjucksRuntime {
  memberLookup(obj: unknown, key: unknown, ...rest: unknown[]): unknown;
  contextOrFrameLookup(context: unknown, frame: unknown, name: string): unknown;
  callWrap(fn: unknown, name: string, context: unknown, args: unknown[]): unknown;
}

/** Nunjucks' runtime: public in the package, untyped in @types/nunjucks. */
const baseRuntime = (nunjucks as unknown as { runtime: NunjucksRuntime }).runtime;

const FUNCTION_CONSTRUCTORS: ReadonlySet<unknown> = new Set([
  Function,
  Object.getPrototypeOf(async function () {}).constructor,
  Object.getPrototypeOf(function* () {}).constructor,
  Object.getPrototypeOf(async function* () {}).constructor,
]);

/** A key as JavaScript will use it: `x[["constructor"]]` looks up `constructor`. */
function unsafeKey(key: unknown): string | undefined {
  if (typeof key === 'symbol' || key === null || key === undefined) return undefined;
  const text = typeof key === 'string' ? key : String(key);
  return UNSAFE_KEYS.has(text) ? text : undefined;
}

/**
 * Nunjucks' runtime with every lookup checked, for one render: nunjucks is not a sandbox, so a
 * key that reaches JavaScript internals (`constructor`, `__proto__`, …) or a function constructor
 * is refused with the error `refuse` makes. Compiled templates receive their runtime as an
 * argument, so nunjucks itself is left as it is for everyone else. `lookup` may answer a member
 * lookup first (Jinja's Python string methods); it is never asked for an unsafe key.
 */
export function guardedRuntime(refuse: (key: string) => Error, lookup?: (obj: unknown, key: unknown) => unknown): NunjucksRuntime {
  const guards: NunjucksRuntime = {
    memberLookup(obj, key, ...rest) {
      // Four arguments is Jinja compatibility's slice `x[1:3]`, not a key.
      if (rest.length < 2) {
        const unsafe = unsafeKey(key);
        if (unsafe !== undefined) throw refuse(unsafe);
        if (obj !== null && obj !== undefined && FUNCTION_CONSTRUCTORS.has((obj as Record<string, unknown>)[key as string])) throw refuse(String(key));
        const answered = lookup?.(obj, key);
        if (answered !== undefined) return answered;
      }
      return baseRuntime.memberLookup(obj, key, ...rest);
    },
    contextOrFrameLookup(context, frame, name) {
      if (UNSAFE_KEYS.has(name)) throw refuse(name);
      return baseRuntime.contextOrFrameLookup(context, frame, name);
    },
    callWrap(fn, name, context, args) {
      if (FUNCTION_CONSTRUCTORS.has(fn)) throw refuse(name);
      return baseRuntime.callWrap(fn, name, context, args);
    },
  };
  return Object.assign(Object.create(baseRuntime) as NunjucksRuntime, guards);
}
