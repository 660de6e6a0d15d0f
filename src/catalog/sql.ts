/**
 * SQL that joins an entity's owner (the target of its ownedBy relation) as `<as>.owner`, for
 * queries of other capabilities over `catalog_entities` (search documents, docs lists).
 */
export const ownerJoin = (entity: string, as: string) =>
  `left join lateral (select r.target_ref as owner from catalog_relations r where r.source_key = ${entity}.ref_key and r.type = 'ownedBy' limit 1) ${as} on true`;
