// RJSF draws no label for a `ui:field` field (Backstage's fields draw their own, as these do):
// the label and description a custom field shows, from its uiSchema or schema.
import type { FieldProps } from '@rjsf/utils';

export function fieldLabel({ uiSchema, schema, name }: Pick<FieldProps, 'uiSchema' | 'schema' | 'name'>): { label: string; description?: string } {
  const title = (uiSchema?.['ui:title'] as string | undefined) ?? schema.title ?? name;
  const description = (uiSchema?.['ui:description'] as string | undefined) ?? schema.description;
  return { label: title, description };
}
