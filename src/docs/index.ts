export { docsMigrations } from './migrations.ts';
export { DocsBuilder, BUILD_JOB, type BuildOutcome } from './builder.ts';
export { docsRoutes } from './routes.ts';
export { collateDocs, DOCS_TYPE } from './search-collator.ts';
export { buildSiteFromDir, DEFAULT_DOCS_LIMITS, type BuiltSite, type DocsLimits } from './site.ts';
export { docsUrls } from './urls.ts';
