export { searchMigrations } from './migrations.ts';
export { SearchIndexer } from './indexer.ts';
export { searchRoutes } from './routes.ts';
export { search, type SearchRequest, type SearchResult, type SearchAnswer } from './query.ts';
export { SearchService, bumpGeneration, lockSearchWrites } from './service.ts';
export { collateEntities, CATALOG_TYPE } from './catalog-collator.ts';
