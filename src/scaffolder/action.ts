import type { Logger } from 'pino';

/** A runnable example of an action, listed by `GET /api/scaffolder/v2/actions` and run by the tests. */
export interface ActionExample {
  description: string;
  /** A YAML snippet of template steps, as Backstage's `*.examples.ts` files write them. */
  example: string;
}

/** What a step's action gets while it runs. */
export interface ActionContext<I = Record<string, unknown>> {
  /** The step's input, with every `${{ }}` already rendered. */
  input: I;
  /** The task's workspace: every path an action reads or writes is inside it. */
  workspacePath: string;
  /** The folder (local) or URL the template came from: relative `url`s resolve against it. */
  templateInfo: { baseUrl: string; entityRef?: string };
  logger: Logger;
  /** Lines for the step's log, streamed to the portal and CLI (secrets are masked before they are stored). */
  log(message: string): void;
  output(name: string, value: unknown): void;
  /** Makes a throwaway folder that is removed with the workspace. */
  createTemporaryDirectory(): Promise<string>;
  secrets: Record<string, string>;
  user: { entity?: unknown; ref?: string };
  /** True in a dry-run: side effects beyond the workspace must be simulated, not done. */
  isDryRun: boolean;
  signal: AbortSignal;
  /**
   * Runs `fn` once per task and key, remembering its result in the task: a retried or resumed run
   * gets the remembered result instead of doing the side effect again (Backstage's checkpoint).
   * Absent where nothing is remembered (dry-runs, tests).
   */
  checkpoint?<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** The task and step, for actions that record what they did (so a retry can skip it). */
  task: { id: string };
  step: { id: string; name: string };
}

export interface TemplateAction<I = any> {
  id: string;
  description: string;
  /** JSON Schemas of the input and the outputs, as Backstage lists them. */
  schema: { input: Record<string, unknown>; output?: Record<string, unknown> };
  examples: ActionExample[];
  /** True when the action changes nothing outside the workspace, so a dry-run runs it for real. */
  supportsDryRun?: boolean;
  handler(ctx: ActionContext<I>): Promise<void>;
}

export const defineAction = <I>(action: TemplateAction<I>): TemplateAction<I> => action;
