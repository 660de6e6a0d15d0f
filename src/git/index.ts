export { gitMigrations } from './migrations.ts';
export { GitRepos, type Repo, type RefUpdate, type TreeEntry, type Commit } from './repos.ts';
export { gitProtocolRoutes, gitApiRoutes } from './routes.ts';
export { gitRepoRules } from './permissions.ts';
export { ChangeRequests, type ChangeRequest, type ChangeComment } from './change-requests.ts';
export { git, gitBuffer, GitCommandError, type GitOptions } from './git.ts';
