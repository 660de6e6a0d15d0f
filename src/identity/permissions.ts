/**
 * Every permission Pave checks, named per action like Backstage's permission framework.
 * `resourceType` marks permissions that can be decided per resource (conditional decisions);
 * `adminScope` ones are outside what a `write` token scope covers.
 */
export interface PermissionDef {
  name: string;
  action: 'read' | 'create' | 'update' | 'delete';
  resourceType?: string;
  adminScope?: boolean;
  description: string;
}

const defs: PermissionDef[] = [
  { name: 'catalog.entity.read', action: 'read', resourceType: 'catalog-entity', description: 'Read entities, facets and ancestry' },
  { name: 'catalog.entity.create', action: 'create', description: 'Create entities (through registering a location)' },
  { name: 'catalog.entity.delete', action: 'delete', resourceType: 'catalog-entity', description: 'Remove an entity' },
  { name: 'catalog.entity.refresh', action: 'update', resourceType: 'catalog-entity', description: "Re-read an entity's location" },
  { name: 'catalog.entity.validate', action: 'read', description: 'Validate an entity' },
  { name: 'catalog.location.read', action: 'read', resourceType: 'catalog-location', description: 'Read registered locations' },
  { name: 'catalog.location.create', action: 'create', description: 'Register a location' },
  { name: 'catalog.location.update', action: 'update', resourceType: 'catalog-location', description: 'Change where a location points' },
  { name: 'catalog.location.delete', action: 'delete', resourceType: 'catalog-location', description: 'Unregister a location' },
  { name: 'catalog.location.refresh', action: 'update', resourceType: 'catalog-location', description: 'Re-read a location now' },
  { name: 'catalog.location.analyze', action: 'read', description: 'Analyze a location before registering it' },
  { name: 'jobs.read', action: 'read', description: 'Read jobs of the queue' },
  { name: 'jobs.retry', action: 'update', adminScope: true, description: 'Queue a failed job again' },
  { name: 'events.read', action: 'read', description: 'Read the event log' },
  { name: 'audit.read', action: 'read', adminScope: true, description: 'Read, export and verify the audit log' },
  { name: 'auth.token.create', action: 'create', description: 'Create personal API tokens' },
  { name: 'auth.token.service.create', action: 'create', adminScope: true, description: 'Create service tokens' },
  { name: 'auth.token.read', action: 'read', resourceType: 'auth-token', description: 'List API tokens' },
  { name: 'auth.token.revoke', action: 'delete', resourceType: 'auth-token', description: 'Revoke an API token' },
  { name: 'auth.account.manage', action: 'update', adminScope: true, description: 'Manage local accounts' },
  { name: 'auth.session.revoke', action: 'delete', adminScope: true, description: "Sign another person out everywhere" },
  // Held by every signed-in principal: their own session, password and the permission check API.
  { name: 'auth.self', action: 'read', description: "A signed-in principal's own session and settings" },
];

const registry = new Map(defs.map((d) => [d.name, d]));

/** Capabilities add their permissions here at import time (pipelines, templates, ...). */
export function definePermission(def: PermissionDef): void {
  registry.set(def.name, def);
}

export function permissionDef(name: string): PermissionDef | undefined {
  return registry.get(name);
}

export function allPermissions(): PermissionDef[] {
  return [...registry.values()];
}

/** `catalog.*`, `*.read`, `*`: a dot-separated glob over permission names. */
const compiled = new Map<string, RegExp>();

export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === '*' || pattern === name) return true;
  if (!pattern.includes('*')) return false;
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    compiled.set(pattern, re);
  }
  return re.test(name);
}

/**
 * Token scopes: `read` (read actions), `write` (everything but admin-only permissions), `admin`,
 * or permission patterns such as `catalog.*` or `catalog.entity.refresh`.
 */
export function scopeAllows(scopes: string[], name: string): boolean {
  if (name === 'auth.self') return true;
  const def = registry.get(name);
  return scopes.some((s) => {
    if (s === 'admin') return true;
    if (s === 'write') return !def?.adminScope;
    if (s === 'read') return def?.action === 'read' && !def.adminScope;
    return matchesPattern(s, name);
  });
}

export const SCOPE_PATTERN = /^(read|write|admin|[a-z*][a-z0-9*-]*(\.[a-z*][a-z0-9*-]*)*)$/;
