import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/index.ts';
import { inTurns } from '../core/in-turns.ts';
import { badInput, conflict, isPaveError } from '../core/errors.ts';
import type { GitRepos } from '../git/index.ts';
import type { TemplateAction } from './action.ts';
import { renderValue } from './expressions.ts';
import { runSteps, StepError } from './steps.ts';
import type { TaskEvent, TaskSpec, TaskStore } from './tasks.ts';
import { checkTemplate, checkValues, secretFieldNames, type TemplateEntity } from './template.ts';
import { paveRepoOf } from './actions/pave.ts';
import { scratchDir } from '../core/scratch.ts';

const PUBLISHERS = new Set(['publish:pave', 'publish:github', 'publish:gitlab']);

/** The files of a dry-run, as Backstage's template editor sends and receives them. */
export interface DirectoryEntry {
  path: string;
  base64Content: string;
  executable?: boolean;
}

/** Template runs: from a Template entity and values to a task, and dry-runs of templates being written. */
export class Scaffolder {
  constructor(
    private readonly deps: {
      catalog: Catalog;
      repos: GitRepos;
      tasks: TaskStore;
      actions: ReadonlyMap<string, TemplateAction>;
      log: Logger;
      /** Where dry-runs are made (`data.workDir`). */
      workDir: string;
      kick: () => void;
    },
  ) {}

  /** Looks for work now (a task was created or retried here). */
  kick(): void {
    this.deps.kick();
  }

  /** The folder (as a file: URL) a template's relative `url`s resolve against: beside its catalog file. */
  static baseUrlOf(template: TemplateEntity): string {
    const location = template.metadata.annotations?.['backstage.io/managed-by-location'] ?? '';
    if (location.startsWith('file:')) return pathToFileURL(path.dirname(location.slice('file:'.length)) + path.sep).href;
    if (location.startsWith('url:')) return new URL('./', location.slice('url:'.length)).href;
    throw badInput('TEMPLATE_LOCATION_UNKNOWN', `The template has no backstage.io/managed-by-location annotation, so its relative urls cannot be resolved`, {});
  }

  /** Creates a task from a template in the catalog and the values of its form. */
  async create(
    template: TemplateEntity,
    templateRef: string,
    values: Record<string, unknown>,
    secrets: Record<string, string>,
    user: { ref?: string; entity?: unknown },
  ): Promise<string> {
    // The template was checked when the catalog accepted it (checkTemplate runs at registration).
    // Secret fields travel as secrets (the portal sends them there; an API caller may put them in
    // values): they are checked with the form, then never stored with the task's spec nor logged.
    const secretFields = secretFieldNames(template);
    const filled = { ...values };
    for (const name of secretFields) if (typeof secrets[name] === 'string') filled[name] = secrets[name];
    checkValues(template, filled);
    const parameters = { ...filled };
    const allSecrets = { ...secrets };
    for (const name of secretFields) {
      if (typeof parameters[name] === 'string') allSecrets[name] = parameters[name] as string;
      delete parameters[name];
    }
    const spec = this.specOf(template, templateRef, parameters, user, Scaffolder.baseUrlOf(template));
    await this.preflight(spec);
    const id = await this.deps.tasks.create(spec, user.ref, allSecrets);
    this.deps.kick();
    return id;
  }

  private specOf(template: TemplateEntity, templateRef: string, parameters: Record<string, unknown>, user: TaskSpec['user'], baseUrl: string): TaskSpec {
    return {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      steps: (template.spec.steps ?? []).map((s, i) => ({ ...s, id: s.id ?? `step-${i + 1}`, name: s.name ?? s.action })),
      output: template.spec.output ?? {},
      parameters,
      user,
      templateInfo: { entityRef: templateRef, baseUrl, entity: { metadata: template.metadata } },
      ...(template.spec.EXPERIMENTAL_recovery ? { EXPERIMENTAL_recovery: template.spec.EXPERIMENTAL_recovery } : {}),
    };
  }

  /**
   * Refuses a run whose repository name is taken before anything is created: a publish step's
   * repoUrl that depends only on the parameters is checked now.
   */
  private async preflight(spec: TaskSpec): Promise<void> {
    for (const step of spec.steps) {
      if (!PUBLISHERS.has(step.action) || !this.deps.actions.has(step.action)) continue;
      const raw = step.input?.repoUrl;
      if (typeof raw !== 'string' || /steps\./.test(raw)) continue;
      const repoUrl = renderValue(raw, { parameters: spec.parameters, user: spec.user });
      if (typeof repoUrl !== 'string' || repoUrl.includes('${{')) continue;
      let repo;
      try {
        repo = paveRepoOf(repoUrl);
      } catch {
        continue; // the step itself reports it, with its id
      }
      try {
        await this.deps.repos.get(repo.org, repo.name);
      } catch (e) {
        if (isPaveError(e) && e.code === 'GIT_REPO_NOT_FOUND') continue;
        throw e;
      }
      throw conflict('GIT_REPO_EXISTS', `The repository ${repo.org}/${repo.name} already exists; choose another name (step ${step.id}, input.repoUrl)`, { org: repo.org, name: repo.name, stepId: step.id });
    }
  }

  /**
   * Runs a template that is being written, with side effects simulated: `directoryContents` are
   * the template's own files (its skeletons); the answer holds the files it would produce and the log.
   */
  async dryRun(input: { template: unknown; values: Record<string, unknown>; secrets?: Record<string, string>; directoryContents?: DirectoryEntry[] }, user: TaskSpec['user']) {
    const template = input.template as TemplateEntity;
    if (!template || typeof template !== 'object' || template.kind !== 'Template' || !Array.isArray(template.spec?.steps)) {
      throw badInput('TEMPLATE_INVALID', 'template must be a Template entity (apiVersion scaffolder.backstage.io/v1beta3, kind Template, spec.steps)', {});
    }
    const problem = checkTemplate(template, new Set(this.deps.actions.keys()));
    if (problem) throw badInput(problem.code, problem.message, { field: problem.field, value: problem.value });
    const filled = { ...(input.values ?? {}) };
    for (const name of secretFieldNames(template)) if (typeof input.secrets?.[name] === 'string') filled[name] = input.secrets[name];
    checkValues(template, filled);
    const root = await scratchDir(this.deps.workDir, 'dry-run-');
    try {
      const templateDir = path.join(root, 'template');
      const workspace = path.join(root, 'workspace');
      await fs.mkdir(templateDir);
      await fs.mkdir(workspace);
      const files = (input.directoryContents ?? []).map((f) => {
        const target = path.resolve(templateDir, f.path);
        if (!target.startsWith(templateDir + path.sep)) throw badInput('DRY_RUN_PATH_INVALID', `directoryContents path "${f.path}" leaves the template folder`, { path: f.path });
        return { target, f };
      });
      await inTurns(files, ({ target, f }) => {
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, Buffer.from(f.base64Content, 'base64'), { mode: f.executable ? 0o755 : 0o644 });
      });
      const spec = this.specOf(template, 'template:default/dry-run', input.values ?? {}, user, pathToFileURL(templateDir + path.sep).href);
      const log: Pick<TaskEvent, 'body'>[] = [];
      let output: Record<string, unknown> = {};
      try {
        output = await runSteps({
          taskId: 'dry-run',
          spec,
          secrets: input.secrets ?? {},
          actions: this.deps.actions,
          workspace,
          dryRun: true,
          signal: AbortSignal.timeout(60_000),
          logger: this.deps.log,
          emit: async (_type, body) => void log.push({ body }),
        });
      } catch (e) {
        const stepId = e instanceof StepError ? e.stepId : undefined;
        log.push({ body: { message: `Step ${stepId ?? '?'} failed: ${(e as Error).message}`, stepId, status: 'failed' } });
      }
      return {
        log,
        directoryContents: await readDirectoryContents(workspace),
        output,
        steps: spec.steps.map((s) => ({ id: s.id, name: s.name, action: s.action, ...(s.input ? { input: s.input } : {}) })),
      };
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  }
}

/**
 * The files under a folder as the dry-run API carries them (paths relative to it, sorted),
 * leaving out folders named in `skip` (a checkout's .git, node_modules).
 */
export async function readDirectoryContents(dir: string, skip: string[] = []): Promise<DirectoryEntry[]> {
  const files = (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const full = path.join(entry.parentPath, entry.name);
      return { full, rel: path.relative(dir, full).split(path.sep).join('/') };
    })
    .filter(({ rel }) => !rel.split('/').some((part) => skip.includes(part)));
  const out: DirectoryEntry[] = [];
  await inTurns(files, ({ full, rel }) => {
    out.push({ path: rel, base64Content: readFileSync(full).toString('base64'), executable: (statSync(full).mode & 0o111) !== 0 });
  });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
