import type { Logger } from 'pino';
import type { Catalog, EntityValidator } from '../catalog/index.ts';
import type { IntegrationsConfig } from '../core/config.ts';
import type { Store } from '../core/store.ts';
import type { ChangeRequests, GitRepos } from '../git/index.ts';
import type { TemplateAction } from './action.ts';
import { catalogFetch, catalogRegister, catalogWrite, publishChangeRequest, publishPave } from './actions/pave.ts';
import { publishGithub, publishGithubPullRequest } from './actions/github.ts';
import { publishGitlab, publishGitlabMergeRequest } from './actions/gitlab.ts';
import { workspaceActions } from './actions/index.ts';
import { integrationHosts } from './actions/scm.ts';
import { addScmHosts } from './filters.ts';
import { Scaffolder } from './service.ts';
import { TaskStore } from './tasks.ts';
import { checkTemplate, type TemplateEntity } from './template.ts';
import { TaskWorker } from './worker.ts';

export { scaffolderMigrations } from './migrations.ts';
export { scaffolderRoutes } from './routes.ts';
export { scaffolderTaskRules } from './permissions.ts';
export { Scaffolder, readDirectoryContents, type DirectoryEntry } from './service.ts';
export { TaskStore, type Task, type TaskSpec, type TaskEvent } from './tasks.ts';
export type { TemplateAction, ActionContext } from './action.ts';

/** The scaffolder: its actions, task store and worker, and the Template check the catalog runs at registration. */
export function createScaffolder(deps: {
  store: Store;
  catalog: Catalog;
  repos: GitRepos;
  changes: ChangeRequests;
  log: Logger;
  baseUrl: () => string;
  workDir: string;
  config: { concurrency: number; takeOverAfterSeconds: number; publishTo: 'pave' | 'native' };
  /** The GitHub and GitLab hosts the native publish actions call (pave.yaml's `integrations`). */
  integrations?: IntegrationsConfig;
}) {
  const paveDeps = { catalog: deps.catalog, repos: deps.repos, changes: deps.changes, baseUrl: deps.baseUrl };
  const integrations = deps.integrations ?? { github: [], gitlab: [] };
  addScmHosts(integrationHosts(integrations));
  const list: TemplateAction[] = [...workspaceActions, catalogWrite, catalogRegister(paveDeps), catalogFetch(paveDeps), publishPave(paveDeps)];
  if (deps.config.publishTo === 'pave') {
    list.push(
      publishPave(paveDeps, 'publish:github'),
      publishPave(paveDeps, 'publish:gitlab'),
      publishChangeRequest(paveDeps, 'publish:github:pull-request'),
      publishChangeRequest(paveDeps, 'publish:gitlab:merge-request'),
    );
  } else {
    const nativeDeps = { integrations };
    list.push(publishGithub(nativeDeps), publishGitlab(nativeDeps), publishGithubPullRequest(nativeDeps), publishGitlabMergeRequest(nativeDeps));
  }
  const actions = new Map(list.map((a) => [a.id, a]));
  const tasks = new TaskStore(deps.store);
  const worker = new TaskWorker(tasks, actions, deps.log, { concurrency: deps.config.concurrency, staleSeconds: deps.config.takeOverAfterSeconds, heartbeatMs: 1000, pollMs: 5000, reclaimAtStart: deps.store.backend === 'pglite', workDir: deps.workDir });
  const scaffolder = new Scaffolder({ catalog: deps.catalog, repos: deps.repos, tasks, actions, log: deps.log, workDir: deps.workDir, kick: () => worker.kick() });
  addTemplateCheck(deps.catalog.validator, new Set(actions.keys()));
  return { actions, tasks, worker, scaffolder };
}

/** The ids of the built-in actions, for checking templates offline (`pave template validate`). */
export const BUILTIN_ACTION_IDS: ReadonlySet<string> = new Set([
  ...workspaceActions.map((a) => a.id),
  'catalog:write',
  'catalog:register',
  'catalog:fetch',
  'publish:pave',
  'publish:github',
  'publish:gitlab',
  'publish:github:pull-request',
  'publish:gitlab:merge-request',
]);

/** Templates are checked at registration: unknown actions, broken expressions, invalid schemas. */
export function addTemplateCheck(validator: EntityValidator, actionIds: ReadonlySet<string>): void {
  validator.addCheck('Template', (entity) => {
    const problem = checkTemplate(entity as unknown as TemplateEntity, actionIds);
    return problem && { code: 'ENTITY_INVALID', message: `${problem.code}: ${problem.message}`, field: problem.field, value: problem.value, rule: problem.rule };
  });
}
