import type { Principal } from '../identity/principal.ts';
import type { ResourceRule } from '../identity/policy.ts';
import type { Task } from './tasks.ts';

const lower = (v: unknown) => String(v).toLowerCase();

/** A run belongs to whoever started it. */
export const scaffolderTaskRules: ResourceRule<Task | undefined>[] = [
  {
    name: 'IS_OWNER',
    resourceType: 'scaffolder-task',
    description: 'The run was started by one of the claims (by default: the caller and their groups)',
    defaults: (p: Principal) => ({ claims: p.ownershipRefs }),
    apply: (task, p) => task?.createdBy != null && (Array.isArray(p.claims) ? p.claims : []).map(lower).includes(lower(task.createdBy)),
  },
];
