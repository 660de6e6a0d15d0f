export { Catalog, PROCESS_JOB, type Location, type LocationStatus } from './service.ts';
export { catalogRoutes } from './routes.ts';
export { catalogMigrations } from './migrations.ts';
export { EntityValidator, BUILTIN_KINDS, loadRules, type EntityProblem } from './validation.ts';
export { parseDocuments, readSource, type LocationProblem } from './reader.ts';
export { relationsOf, RelationError } from './relations.ts';
