// The signed-in person and what they may do, as React hooks over /api/auth/session and
// /api/permission/authorize. The server decides every request again: these only hide what
// would be refused.
import { useQuery } from '@tanstack/react-query';
import { authorizeEach, getSession, type DecisionResult } from './auth.ts';

export const SESSION_KEY = ['session'] as const;

export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: ({ signal }) => getSession(signal),
    staleTime: 60_000,
    // Coming back to the tab is when a session that ended elsewhere is noticed.
    refetchOnWindowFocus: true,
  });
}

export interface Can {
  allowed: boolean;
  /** True while the answer is not known yet. */
  loading: boolean;
}

/**
 * Whether the signed-in person may do `permission`: from the session's decisions, and for a
 * conditional one (e.g. "only what your team owns") from the permission API for `resourceRef`.
 */
export function useCan(permission: string, resourceRef?: string): Can {
  const each = useCanEach(permission, resourceRef === undefined ? [] : [resourceRef]);
  if (resourceRef === undefined) {
    return { allowed: each.decision === 'ALLOW', loading: each.loading };
  }
  return { allowed: each.allows(resourceRef), loading: each.loading };
}

/** `useCan` for many resources of one kind (the locations of a list), in one request. */
export function useCanEach(permission: string, resourceRefs: string[]) {
  const session = useSession();
  const decision: DecisionResult | undefined = session.data?.permissions[permission];
  const conditional = decision === 'CONDITIONAL' && resourceRefs.length > 0;
  const checks = useQuery({
    queryKey: ['authorize', session.data?.principal?.ref, permission, resourceRefs],
    queryFn: () => authorizeEach(permission, resourceRefs),
    enabled: conditional,
    staleTime: 30_000,
  });
  return {
    decision,
    loading: session.isLoading || (conditional && checks.isLoading),
    allows: (ref: string): boolean => {
      if (decision === 'ALLOW') return true;
      if (decision !== 'CONDITIONAL') return false;
      const i = resourceRefs.indexOf(ref);
      return i >= 0 && checks.data?.[i] === 'ALLOW';
    },
  };
}
