// Backstage's `Secret` field (and `ui:widget: password`): what is typed is kept aside and sent as
// the run's `secrets`, never among its values; the form's value is a mask of the same length, so
// `required` still holds.
import { PasswordInput } from '@mantine/core';
import { ariaDescribedByIds, type FieldProps, type WidgetProps } from '@rjsf/utils';
import { fieldLabel } from './fieldLabel.ts';

/** The secrets of a form being filled in, passed to RJSF as its `formContext`. */
export interface SecretsContext {
  secrets: Record<string, string>;
  setSecret: (name: string, value: string) => void;
}

const mask = (value: string) => '*'.repeat(value.length);

function SecretInput(props: {
  id: string;
  name: string;
  context: SecretsContext | undefined;
  onValue: (masked: string | undefined) => void;
  disabled?: boolean;
  required?: boolean;
  invalid: boolean;
  placeholder?: string;
  label?: string;
  description?: string;
}) {
  const { id, name, context, onValue, disabled, required, invalid, placeholder, label, description } = props;
  return (
    <PasswordInput
      id={id}
      label={label}
      description={description}
      withAsterisk={required}
      value={context?.secrets[name] ?? ''}
      disabled={disabled}
      required={required}
      placeholder={placeholder}
      error={invalid ? true : undefined}
      autoComplete="off"
      data-secret="true"
      aria-describedby={ariaDescribedByIds(id)}
      onChange={(e) => {
        const value = e.currentTarget.value;
        context?.setSecret(name, value);
        onValue(value === '' ? undefined : mask(value));
      }}
    />
  );
}

/** `ui:field: Secret`. */
export function Secret({ fieldPathId, name, onChange, disabled, readonly, required, rawErrors, registry, uiSchema, schema }: FieldProps) {
  return (
    <SecretInput
      {...fieldLabel({ uiSchema, schema, name })}
      id={fieldPathId.$id}
      name={name}
      context={registry.formContext as SecretsContext | undefined}
      onValue={(v) => onChange(v, fieldPathId.path)}
      disabled={disabled || readonly}
      required={required}
      invalid={Boolean(rawErrors?.length)}
      placeholder={uiSchema?.['ui:placeholder'] as string | undefined}
    />
  );
}

/** `ui:widget: password`: the same as a Secret field. */
export function PasswordWidget({ id, name, onChange, disabled, readonly, required, rawErrors, registry, placeholder }: WidgetProps) {
  return (
    <SecretInput
      id={id}
      name={name}
      context={registry.formContext as SecretsContext | undefined}
      onValue={(v) => onChange(v)}
      disabled={disabled || readonly}
      required={required}
      invalid={Boolean(rawErrors?.length)}
      placeholder={placeholder}
    />
  );
}
