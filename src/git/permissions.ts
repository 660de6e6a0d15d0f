import type { Principal } from '../identity/principal.ts';
import { definePermission } from '../identity/permissions.ts';
import type { ResourceRule } from '../identity/policy.ts';
import type { Repo } from './repos.ts';

definePermission({ name: 'git.repo.read', action: 'read', description: 'Clone, fetch and browse repositories hosted by Pave' });
definePermission({ name: 'git.repo.create', action: 'create', description: 'Create a repository on Pave' });
definePermission({ name: 'git.repo.push', action: 'update', resourceType: 'git-repo', description: 'Push to a repository hosted by Pave' });
definePermission({ name: 'git.change.create', action: 'create', description: 'Open or comment on a change request (pull request)' });
definePermission({ name: 'git.repo.delete', action: 'delete', resourceType: 'git-repo', description: 'Delete a repository hosted by Pave' });

const lower = (v: unknown) => String(v).toLowerCase();

/** A repository belongs to its owner (a group or user) and to whoever created it. */
export const gitRepoRules: ResourceRule<Repo | undefined>[] = [
  {
    name: 'IS_OWNER',
    resourceType: 'git-repo',
    description: 'The repository is owned by, or was created by, one of the claims (by default: the caller and their groups)',
    defaults: (p: Principal) => ({ claims: p.ownershipRefs }),
    apply: (repo, p) => {
      const claims = (Array.isArray(p.claims) ? p.claims : []).map(lower);
      return [repo?.owner, repo?.createdBy].some((who) => who != null && claims.includes(lower(who)));
    },
  },
];
