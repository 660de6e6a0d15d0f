// Backstage's `RepoUrlPicker`, for repositories on this Pave: the host is this Pave's own, the
// person picks an owner (organisation) and a name; the value is written as Backstage writes it,
// `<host>?owner=<org>&repo=<name>`. `ui:options.allowedOwners` / `allowedRepos` turn the inputs
// into lists.
import { useState } from 'react';
import { Code, Group, Select, Text, TextInput } from '@mantine/core';
import { ariaDescribedByIds, type FieldProps } from '@rjsf/utils';
import { fieldLabel } from './fieldLabel.ts';

interface RepoUrlPickerOptions {
  allowedOwners?: string[];
  allowedRepos?: string[];
}

/** `host?owner=x&repo=y` → its parts (empty when absent). */
export function parseRepoPickerUrl(value: unknown): { host: string; owner: string; repo: string } {
  if (typeof value !== 'string' || !value) return { host: '', owner: '', repo: '' };
  const q = value.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? value.slice(q + 1) : '');
  return { host: q >= 0 ? value.slice(0, q) : value, owner: params.get('owner') ?? '', repo: params.get('repo') ?? '' };
}

export function serializeRepoPickerUrl(host: string, owner: string, repo: string): string {
  return `${host}?${new URLSearchParams({ owner, repo })}`;
}

/** `ui:field: RepoUrlPicker`. */
export function RepoUrlPicker({ fieldPathId, formData, onChange, uiSchema, schema, name, disabled, readonly, required, rawErrors }: FieldProps) {
  const { label, description } = fieldLabel({ uiSchema, schema, name });
  const options = (uiSchema?.['ui:options'] ?? {}) as RepoUrlPickerOptions;
  const host = window.location.host;
  const initial = parseRepoPickerUrl(formData);
  const [owner, setOwner] = useState(initial.owner || (options.allowedOwners?.length === 1 ? options.allowedOwners[0]! : ''));
  const [repo, setRepo] = useState(initial.repo);
  const id = fieldPathId.$id;
  const invalid = rawErrors?.length ? true : undefined;

  const update = (nextOwner: string, nextRepo: string) => {
    setOwner(nextOwner);
    setRepo(nextRepo);
    const o = nextOwner.trim();
    const r = nextRepo.trim();
    onChange(o && r ? serializeRepoPickerUrl(host, o, r) : undefined, fieldPathId.path);
  };
  const common = { disabled: disabled || readonly, required, error: invalid, 'aria-describedby': ariaDescribedByIds(id) };

  return (
    <fieldset className="pave-repo-url-picker" data-testid="repo-url-picker">
      <legend className="pave-form-label">
        {label}
        {required && <span className="pave-form-required"> *</span>}
      </legend>
      {description && (
        <Text size="xs" c="dimmed" mb={4}>
          {description}
        </Text>
      )}
      <Group gap="sm" align="flex-start" grow>
        <TextInput label="Host" value={host} readOnly disabled description="This Pave's git server" />
        {options.allowedOwners?.length ? (
          <Select id={id} label="Owner" data={options.allowedOwners} value={owner || null} onChange={(v) => update(v ?? '', repo)} {...common} />
        ) : (
          <TextInput id={id} label="Owner" description="Organisation, e.g. acme" value={owner} onChange={(e) => update(e.currentTarget.value, repo)} autoComplete="off" spellCheck={false} {...common} />
        )}
        {options.allowedRepos?.length ? (
          <Select id={`${id}-repo`} label="Repository" data={options.allowedRepos} value={repo || null} onChange={(v) => update(owner, v ?? '')} {...common} />
        ) : (
          <TextInput id={`${id}-repo`} label="Repository" description="Name, e.g. payments" value={repo} onChange={(e) => update(owner, e.currentTarget.value)} autoComplete="off" spellCheck={false} {...common} />
        )}
      </Group>
      {owner.trim() && repo.trim() && (
        <Text size="xs" c="dimmed" mt={4}>
          Clone URL: <Code>{`${window.location.protocol}//${host}/git/${owner.trim()}/${repo.trim()}.git`}</Code>
        </Text>
      )}
    </fieldset>
  );
}
