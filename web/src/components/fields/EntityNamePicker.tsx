// Backstage's `EntityNamePicker`: a text input for the name of the entity to create. Backstage's
// name rule is checked by the form (customValidate); a `pattern` of the schema by ajv.
import { TextInput } from '@mantine/core';
import { ariaDescribedByIds, type FieldProps } from '@rjsf/utils';
import { fieldLabel } from './fieldLabel.ts';

/** `ui:field: EntityNamePicker`. */
export function EntityNamePicker({ fieldPathId, formData, onChange, onBlur, onFocus, disabled, readonly, required, rawErrors, uiSchema, schema, autofocus, name }: FieldProps) {
  const { label, description } = fieldLabel({ uiSchema, schema, name });
  const value = typeof formData === 'string' ? formData : '';
  return (
    <TextInput
      id={fieldPathId.$id}
      label={label}
      description={description}
      withAsterisk={required}
      value={value}
      required={required}
      disabled={disabled}
      readOnly={readonly}
      autoFocus={autofocus || uiSchema?.['ui:autofocus'] === true}
      placeholder={(uiSchema?.['ui:placeholder'] as string | undefined) ?? 'my-service'}
      maxLength={typeof schema.maxLength === 'number' ? schema.maxLength : 63}
      error={rawErrors?.length ? true : undefined}
      autoComplete="off"
      spellCheck={false}
      aria-describedby={ariaDescribedByIds(fieldPathId.$id)}
      onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value, fieldPathId.path)}
      onBlur={(e) => onBlur(fieldPathId.$id, e.currentTarget.value)}
      onFocus={(e) => onFocus(fieldPathId.$id, e.currentTarget.value)}
    />
  );
}
