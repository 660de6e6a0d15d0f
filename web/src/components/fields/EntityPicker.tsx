// Backstage's `EntityPicker`: an entity of the catalog, chosen from those `ui:options.catalogFilter`
// (or `allowedKinds`) selects; the value is its full ref (`group:default/team-a`). Unless
// `allowArbitraryValues: false`, a ref that is not in the catalog can be typed too.
import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Group, Loader, Select, Text } from '@mantine/core';
import { ariaDescribedByIds, type FieldProps } from '@rjsf/utils';
import { queryPickerEntities } from '../../scaffolder.ts';
import { entityRefOf, humanizeRef, parseRef, stringifyRef } from '../../refs.ts';
import { fieldLabel } from './fieldLabel.ts';

export interface EntityPickerOptions {
  catalogFilter?: unknown;
  allowedKinds?: string[];
  defaultKind?: string;
  defaultNamespace?: string;
  allowArbitraryValues?: boolean;
}

interface Option {
  value: string;
  label: string;
  title?: string;
  kind?: string;
}

export function EntityPickerInput(props: FieldProps & { defaults?: EntityPickerOptions }) {
  const { fieldPathId, formData, onChange, uiSchema, disabled, readonly, required, rawErrors, defaults, onBlur, onFocus } = props;
  const { label, description } = fieldLabel(props);
  const uiOptions = { ...defaults, ...((uiSchema?.['ui:options'] ?? {}) as EntityPickerOptions) };
  const { allowedKinds, defaultKind, defaultNamespace } = uiOptions;
  const allowArbitrary = uiOptions.allowArbitraryValues !== false;
  const catalogFilter = uiOptions.catalogFilter ?? (allowedKinds?.length ? { kind: allowedKinds } : undefined);
  const [search, setSearch] = useState('');

  const entities = useQuery({
    queryKey: ['picker-entities', catalogFilter ?? null],
    queryFn: ({ signal }) => queryPickerEntities(catalogFilter ?? {}, signal),
    staleTime: 30_000,
  });

  const defaultsOfRef = { kind: defaultKind?.toLowerCase(), namespace: defaultNamespace };
  const options = useMemo<Option[]>(
    () =>
      (entities.data?.items ?? []).map((e) => {
        const ref = entityRefOf(e);
        return { value: ref, label: humanizeRef(ref, defaultsOfRef), title: e.metadata.title, kind: e.kind };
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [entities.data, defaultKind, defaultNamespace],
  );

  const value = typeof formData === 'string' && formData ? formData : null;
  const typed = search.trim();
  const data = useMemo(() => {
    const list: Option[] = [...options];
    // The current value, even when the catalog does not have it.
    if (value && !list.some((o) => o.value === value)) list.push({ value, label: humanizeRef(value, defaultsOfRef) });
    if (allowArbitrary && typed && !list.some((o) => o.label === typed || o.value === typed)) {
      try {
        const ref = stringifyRef(parseRef(typed, { kind: defaultKind ?? allowedKinds?.[0] ?? 'component', namespace: defaultNamespace }));
        if (!list.some((o) => o.value === ref)) list.push({ value: ref, label: typed, title: 'Not in the catalog: use as typed' });
      } catch {
        // not a ref
      }
    }
    return list;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options, value, typed, allowArbitrary]);
  const byValue = useMemo(() => new Map(data.map((o) => [o.value, o])), [data]);

  return (
    <Select
      id={fieldPathId.$id}
      label={label}
      description={description}
      withAsterisk={required}
      data={data.map(({ value: v, label }) => ({ value: v, label }))}
      value={value}
      searchable
      clearable={!required}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={entities.isLoading ? 'Loading…' : 'Nothing in the catalog matches'}
      disabled={disabled || readonly}
      required={required}
      error={rawErrors?.length ? true : undefined}
      rightSection={entities.isFetching ? <Loader size={14} aria-label="Loading entities" /> : undefined}
      comboboxProps={{ withinPortal: true }}
      aria-describedby={ariaDescribedByIds(fieldPathId.$id)}
      onChange={(v) => onChange(v ?? undefined, fieldPathId.path)}
      onBlur={() => onBlur(fieldPathId.$id, value)}
      onFocus={() => onFocus(fieldPathId.$id, value)}
      renderOption={({ option }) => {
        const o = byValue.get(option.value);
        return (
          <Group gap={8} wrap="nowrap" justify="space-between" w="100%">
            <div>
              <Text size="sm">{option.label}</Text>
              {o?.title && (
                <Text size="xs" c="dimmed">
                  {o.title}
                </Text>
              )}
            </div>
            {o?.kind && (
              <Text size="xs" c="dimmed" tt="uppercase">
                {o.kind}
              </Text>
            )}
          </Group>
        );
      }}
      filter={({ options: opts, search: s }) => {
        const q = s.trim().toLowerCase();
        if (!q) return opts;
        return opts.filter((o) => {
          if (!('value' in o)) return true;
          const full = byValue.get(o.value);
          return [o.label, o.value, full?.title].some((t) => t?.toLowerCase().includes(q)) || full?.label === s.trim();
        });
      }}
    />
  );
}

/** `ui:field: EntityPicker`. */
export function EntityPicker(props: FieldProps) {
  return <EntityPickerInput {...props} />;
}
