import { badInput } from '../core/errors.ts';

/**
 * Keeps only the named dot paths of an entity, as Backstage's `fields` parameter does. A
 * segment that is not a key is glued to the next with a dot, so
 * `metadata.annotations.backstage.io/orphan` finds the key `backstage.io/orphan`.
 */
export function projectFields(entity: unknown, fields: string[] | undefined): unknown {
  if (!fields || fields.length === 0 || entity === null || typeof entity !== 'object') return entity;
  const out: Record<string, any> = {};
  for (const field of fields) {
    const segments = field.split('.');
    let src: any = entity;
    const pathTaken: string[] = [];
    let pending = '';
    let found = true;
    for (let i = 0; i < segments.length; i++) {
      const seg = pending ? `${pending}.${segments[i]}` : segments[i];
      if (src !== null && typeof src === 'object' && !Array.isArray(src) && Object.prototype.hasOwnProperty.call(src, seg)) {
        src = src[seg];
        pathTaken.push(seg);
        pending = '';
      } else {
        pending = seg;
      }
    }
    if (pending) found = false;
    if (!found) continue;
    let dst = out;
    for (let i = 0; i < pathTaken.length - 1; i++) {
      dst[pathTaken[i]] ??= {};
      dst = dst[pathTaken[i]];
    }
    dst[pathTaken[pathTaken.length - 1]] = structuredClone(src);
  }
  return out;
}

export function parseFields(raw: string | string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  // As in Backstage: paths into arrays (`metadata.tags[0]`) cannot be projected.
  const arrayField = list.find((f) => f.includes('['));
  if (arrayField !== undefined) throw badInput('INVALID_FIELDS', 'array type fields are not supported', { field: arrayField });
  return list.length ? [...new Set(list)] : undefined;
}
