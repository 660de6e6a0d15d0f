export { installAccessControl, RequestAccess, type AuditSink, type AccessOptions } from './access.ts';
export { identityMigrations } from './migrations.ts';
export { allPermissions, definePermission, type PermissionDef } from './permissions.ts';
export { Policy, DEFAULT_RULES, type Condition, type Decision, type ResourceRule, type QueryCombinators } from './policy.ts';
export { ANONYMOUS, type Principal } from './principal.ts';
export { authRoutes, permissionRoutes, publicPrincipal } from './routes.ts';
export { Identity } from './service.ts';
export { tokenFilterCombinators, tokenRules } from './token-rules.ts';
export type { TokenInfo } from './tokens.ts';
