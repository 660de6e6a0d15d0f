/** Splits `kind:namespace/name` (a ref key) into its parts. */
export function entityParts(entityKey: string): { kind: string; namespace: string; name: string } {
  const colon = entityKey.indexOf(':');
  const slash = entityKey.indexOf('/', colon + 1);
  return { kind: entityKey.slice(0, colon), namespace: entityKey.slice(colon + 1, slash), name: entityKey.slice(slash + 1) };
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/**
 * Where a site's pages live in the portal and its files in the API. Pages follow MkDocs'
 * directory URLs as TechDocs does: `guides/setup.md` is `/docs/<namespace>/<kind>/<name>/guides/setup/`.
 */
export function docsUrls(entityKey: string) {
  const { kind, namespace, name } = entityParts(entityKey);
  const base = `/docs/${encodeURIComponent(namespace)}/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/`;
  const slug = (pagePath: string) => pagePath.replace(/\.md$/i, '').replace(/(^|\/)(index|README)$/i, '');
  return {
    base,
    slug,
    page: (pagePath: string) => {
      const s = slug(pagePath);
      return s ? `${base}${encodePath(s)}/` : base;
    },
    asset: (assetPath: string) => `/api${base}assets/${encodePath(assetPath)}`,
  };
}
