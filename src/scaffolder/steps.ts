import fs from 'node:fs/promises';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import type { Logger } from 'pino';
import type { ActionContext, TemplateAction } from './action.ts';
import { isTruthy, renderValue, type TemplateContext } from './expressions.ts';
import type { TaskEvent, TaskEventType, TaskSpec } from './tasks.ts';
import { ajv } from './template.ts';

const compiled = new WeakMap<object, ReturnType<typeof ajv.compile>>();

/** A step that failed: the run stops there, and the task says which step and why. */
export class StepError extends Error {
  constructor(
    readonly stepId: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StepRunOptions {
  taskId: string;
  spec: TaskSpec;
  secrets: Record<string, string>;
  actions: ReadonlyMap<string, TemplateAction>;
  workspace: string;
  dryRun: boolean;
  signal: AbortSignal;
  logger: Logger;
  emit(type: TaskEventType, body: TaskEvent['body']): Promise<void>;
  /** Remembered side effects of this task (absent in a dry-run). */
  checkpoints?: { get(key: string): Promise<{ value: unknown } | undefined>; set(key: string, value: unknown): Promise<void> };
}

/** Hides every secret value in a log line (secrets may reach a step's input through `${{ secrets.x }}`). */
export function masker(secrets: Record<string, string> | string[]): (text: string) => string {
  const values = Object.values(secrets)
    .filter((v) => typeof v === 'string' && v.length >= 3)
    .sort((a, b) => b.length - a.length);
  return (text) => values.reduce((t, v) => t.split(v).join('***'), text);
}

/**
 * Runs a task's steps in order in its workspace: `if` skips a step, `each` repeats it, inputs are
 * rendered with Backstage's `${{ }}` semantics and checked against the action's schema, and
 * outputs become `steps.<id>.output`. Returns the rendered `output` of the template.
 */
export async function runSteps(o: StepRunOptions): Promise<Record<string, unknown>> {
  const mask = masker(o.secrets);
  const ctx: TemplateContext & { steps: Record<string, { output: Record<string, unknown> }> } = {
    parameters: o.spec.parameters,
    steps: {},
    user: o.spec.user,
    secrets: o.secrets,
    context: { task: { id: o.taskId } },
  };
  const tempDirs: string[] = [];
  try {
    for (const step of o.spec.steps) {
      if (o.signal.aborted) throw new StepError(step.id, 'The run was cancelled');
      const action = o.actions.get(step.action);
      if (!action) throw new StepError(step.id, `No action "${step.action}"`);
      if (step.if !== undefined && !isTruthy(renderValue(step.if, ctx))) {
        await o.emit('log', { message: `Skipping step ${step.id}: its if condition is false`, stepId: step.id, status: 'skipped' });
        continue;
      }
      await o.emit('log', { message: `Beginning step ${step.name}`, stepId: step.id, status: 'processing' });
      const started = performance.now();
      const output: Record<string, unknown> = {};
      const iterations = step.each === undefined ? [undefined] : eachOf(renderValue(step.each, ctx), step.id);
      try {
        for (const each of iterations) {
          const input = (renderValue(step.input ?? {}, each ? { ...ctx, each } : ctx, {
            onError: (e, template) => o.logger.debug({ err: e.message, template }, 'expression kept as written'),
          }) ?? {}) as Record<string, unknown>;
          checkInput(action, input, step.id);
          const log = (message: string) => void o.emit('log', { message: mask(message), stepId: step.id });
          if (o.dryRun && !action.supportsDryRun) {
            log(`Dry run: would run ${action.id} with ${mask(JSON.stringify(input))}`);
            continue;
          }
          const actionCtx: ActionContext = {
            input,
            workspacePath: o.workspace,
            templateInfo: { baseUrl: o.spec.templateInfo.baseUrl, entityRef: o.spec.templateInfo.entityRef },
            logger: o.logger.child({ step: step.id }),
            log,
            output: (name, value) => {
              if (each) ((output[name] ??= []) as unknown[]).push(value);
              else output[name] = value;
            },
            createTemporaryDirectory: async () => {
              const dir = await fs.mkdtemp(path.join(path.dirname(o.workspace), `tmp-${path.basename(o.workspace)}-`));
              tempDirs.push(dir);
              return dir;
            },
            secrets: o.secrets,
            user: o.spec.user,
            isDryRun: o.dryRun,
            signal: o.signal,
            task: { id: o.taskId },
            step: { id: step.id, name: step.name },
            ...(o.checkpoints
              ? {
                  checkpoint: async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
                    const saved = await o.checkpoints!.get(key);
                    if (saved) return saved.value as T;
                    const value = await fn();
                    await o.checkpoints!.set(key, value ?? null);
                    return value;
                  },
                }
              : {}),
          };
          await action.handler(actionCtx);
          // An action told to stop may return quietly: the step it was in is the one cancelled.
          if (o.signal.aborted) throw new StepError(step.id, 'The run was cancelled');
        }
      } catch (e) {
        if (e instanceof StepError) throw e;
        throw new StepError(step.id, mask(e instanceof Error ? e.message : String(e)));
      }
      ctx.steps[step.id] = { output };
      await o.emit('log', { message: `Finished step ${step.name} in ${Math.round(performance.now() - started)} ms`, stepId: step.id, status: 'completed' });
    }
    return (renderValue(o.spec.output ?? {}, ctx) ?? {}) as Record<string, unknown>;
  } finally {
    await Promise.all(tempDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  }
}

function eachOf(value: unknown, stepId: string): { key: string | number; value: unknown }[] {
  if (Array.isArray(value)) return value.map((v, i) => ({ key: i, value: v }));
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => ({ key: k, value: v }));
  throw new StepError(stepId, `each must be a list or a mapping, got ${JSON.stringify(value)}`);
}

function checkInput(action: TemplateAction, input: Record<string, unknown>, stepId: string): void {
  let validate = compiled.get(action.schema.input);
  if (!validate) {
    validate = ajv.compile(action.schema.input);
    compiled.set(action.schema.input, validate);
  }
  if (validate(input)) return;
  const problems = (validate.errors ?? []).map((e: ErrorObject) => {
    const at = e.instancePath.slice(1).replace(/\//g, '.');
    const field = e.keyword === 'required' ? [at, String(e.params.missingProperty)].filter(Boolean).join('.') : at || '(input)';
    return `input.${field} ${e.keyword === 'required' ? 'is required' : e.message}`;
  });
  throw new StepError(stepId, `Invalid input for ${action.id}: ${problems.join('; ')}`);
}
