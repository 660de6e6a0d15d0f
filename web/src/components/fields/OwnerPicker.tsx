// Backstage's `OwnerPicker`: the EntityPicker kept to groups and users (`ui:options.allowedKinds`
// or `catalogFilter` narrow it further); groups are named without their kind.
import type { FieldProps } from '@rjsf/utils';
import { EntityPickerInput } from './EntityPicker.tsx';

const OWNER_DEFAULTS = { allowedKinds: ['Group', 'User'], defaultKind: 'Group' };

/** `ui:field: OwnerPicker`. */
export function OwnerPicker(props: FieldProps) {
  return <EntityPickerInput {...props} defaults={OWNER_DEFAULTS} />;
}
