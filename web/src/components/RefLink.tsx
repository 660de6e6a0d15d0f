import { Link } from 'react-router-dom';
import { Anchor, type AnchorProps } from '@mantine/core';
import { humanizeRef, refPath } from '../refs.ts';

/**
 * A link to an entity's page, labelled with its ref shortened against the defaults
 * (`team-a` for `group:default/team-a` when the default kind is group).
 */
export function RefLink({ value, defaultKind, namespace, ...anchor }: { value: string; defaultKind?: string; namespace?: string } & AnchorProps & { 'data-testid'?: string }) {
  const defaults = { kind: defaultKind || undefined, namespace };
  return (
    <Anchor component={Link} to={refPath(value, defaults)} size="sm" {...anchor}>
      {humanizeRef(value, defaults)}
    </Anchor>
  );
}
