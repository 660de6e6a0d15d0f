// A template's form page drawn with RJSF (react-jsonschema-form, as Backstage's scaffolder does)
// in Pave's look: Mantine inputs, labels, help and errors, and Backstage's custom fields
// registered under their Backstage names.
import { useMemo, type ReactNode, type Ref } from 'react';
import Form from '@rjsf/core';
import {
  ariaDescribedByIds,
  type ArrayFieldItemTemplateProps,
  descriptionId,
  enumOptionsIndexForValue,
  enumOptionsValueForIndex,
  errorId,
  getInputProps,
  getTemplate,
  getUiOptions,
  helpId,
  type BaseInputTemplateProps,
  type CustomValidator,
  type DescriptionFieldProps,
  type ErrorSchema,
  type ErrorTransformer,
  type FieldErrorProps,
  type FieldHelpProps,
  type FieldTemplateProps,
  type IconButtonProps,
  type RegistryFieldsType,
  type RegistryWidgetsType,
  type RJSFSchema,
  type TemplatesType,
  type TitleFieldProps,
  type UiSchema,
  type WidgetProps,
} from '@rjsf/utils';
import { Button, Checkbox, Group, MultiSelect, Select, Text, Textarea, TextInput, Title } from '@mantine/core';
import { entityNameProblem, extractSchemaFromStep, fieldsWithUiField, type JsonObject, type ParameterStep } from '../../scaffolder.ts';
import { EntityPicker } from './EntityPicker.tsx';
import { OwnerPicker } from './OwnerPicker.tsx';
import { EntityNamePicker } from './EntityNamePicker.tsx';
import { RepoUrlPicker } from './RepoUrlPicker.tsx';
import { PasswordWidget, Secret, type SecretsContext } from './Secret.tsx';
import { formValidator } from './validator.ts';

// ---------------------------------------------------------------- templates

function FieldTemplate(props: FieldTemplateProps) {
  const { id, label, children, errors, help, rawDescription, description, hidden, required, displayLabel, registry, uiSchema, fieldPathId, rawErrors, classNames, style } = props;
  const uiOptions = getUiOptions(uiSchema);
  const WrapIfAdditionalTemplate = getTemplate('WrapIfAdditionalTemplate', registry, uiOptions);
  if (hidden) return <div hidden>{children}</div>;
  const isCheckbox = uiOptions.widget === 'checkbox' || props.schema.type === 'boolean';
  const path = fieldPathId.path.join('.');
  return (
    <WrapIfAdditionalTemplate {...props}>
      <div
        className={`pave-form-field ${classNames ?? ''}`}
        style={style}
        data-field={path || undefined}
        data-invalid={rawErrors?.length ? 'true' : undefined}
      >
        {displayLabel && !isCheckbox && label && (
          <label htmlFor={id} className="pave-form-label">
            {label}
            {required && (
              <span className="pave-form-required" aria-hidden="true">
                {' '}
                *
              </span>
            )}
          </label>
        )}
        {displayLabel && !isCheckbox && rawDescription ? description : null}
        {children}
        {errors}
        {help}
      </div>
    </WrapIfAdditionalTemplate>
  );
}

function DescriptionFieldTemplate({ id, description }: DescriptionFieldProps) {
  if (!description) return null;
  return (
    <Text id={id} size="xs" c="dimmed" className="pave-form-description">
      {description}
    </Text>
  );
}

function TitleFieldTemplate({ id, title, required }: TitleFieldProps) {
  return (
    <Title id={id} order={4} size="h5" className="pave-form-title">
      {title}
      {required ? ' *' : ''}
    </Title>
  );
}

function FieldErrorTemplate({ errors = [], fieldPathId }: FieldErrorProps) {
  const shown = errors.filter(Boolean);
  if (shown.length === 0) return null;
  return (
    <div id={errorId(fieldPathId)} className="pave-form-errors" data-testid="field-error" role="alert">
      {shown.map((e, i) => (
        <Text key={i} size="xs" c="red.8">
          {e}
        </Text>
      ))}
    </div>
  );
}

function FieldHelpTemplate({ help, fieldPathId }: FieldHelpProps) {
  if (!help) return null;
  return (
    <Text id={helpId(fieldPathId)} size="xs" c="dimmed" mt={4}>
      {help}
    </Text>
  );
}

function BaseInputTemplate(props: BaseInputTemplateProps) {
  const { id, htmlName, value, readonly, disabled, autofocus, onBlur, onFocus, onChange, onChangeOverride, options, schema, rawErrors, type, placeholder, required } = props;
  const inputProps = getInputProps(schema, type, options);
  const numeric = inputProps.type === 'number' || inputProps.type === 'integer';
  const shown = numeric ? (value || value === 0 ? value : '') : (value ?? '');
  return (
    <TextInput
      id={id}
      name={htmlName || id}
      {...inputProps}
      type={numeric ? 'number' : inputProps.type}
      value={shown}
      placeholder={placeholder}
      required={required}
      readOnly={readonly}
      disabled={disabled}
      autoFocus={autofocus}
      error={rawErrors?.length ? true : undefined}
      onChange={onChangeOverride ?? ((e) => onChange(e.currentTarget.value === '' ? options.emptyValue : e.currentTarget.value))}
      onBlur={(e) => onBlur(id, e.currentTarget.value)}
      onFocus={(e) => onFocus(id, e.currentTarget.value)}
      aria-describedby={ariaDescribedByIds(id, !!schema.examples)}
      autoComplete="off"
    />
  );
}

function ArrayFieldItemTemplate({ children, buttonsProps, hasToolbar, registry, uiSchema, className }: ArrayFieldItemTemplateProps) {
  const Buttons = getTemplate('ArrayFieldItemButtonsTemplate', registry, getUiOptions(uiSchema));
  return (
    <div className={`pave-form-array-item ${className}`}>
      <div className="pave-form-array-item-content">{children}</div>
      {hasToolbar && (
        <Group gap={4} wrap="nowrap">
          <Buttons {...buttonsProps} />
        </Group>
      )}
    </div>
  );
}

function ButtonLike({ children, color, ...props }: IconButtonProps & { children: ReactNode; color?: string }) {
  const { onClick, disabled, title, id, className } = props;
  return (
    <Button type="button" size="xs" variant="default" color={color} onClick={onClick} disabled={disabled} title={title} id={id} className={className}>
      {children}
    </Button>
  );
}

const ButtonTemplates: Partial<TemplatesType['ButtonTemplates']> = {
  AddButton: (p) => (
    <ButtonLike {...p} className="pave-form-add">
      + Add
    </ButtonLike>
  ),
  RemoveButton: (p) => (
    <ButtonLike {...p} color="red">
      Remove
    </ButtonLike>
  ),
  MoveUpButton: (p) => (
    <ButtonLike {...p} title="Move up">
      ↑
    </ButtonLike>
  ),
  MoveDownButton: (p) => (
    <ButtonLike {...p} title="Move down">
      ↓
    </ButtonLike>
  ),
  CopyButton: (p) => <ButtonLike {...p}>Copy</ButtonLike>,
  ClearButton: (p) => <ButtonLike {...p}>Clear</ButtonLike>,
};

const templates = {
  FieldTemplate,
  ArrayFieldItemTemplate,
  DescriptionFieldTemplate,
  TitleFieldTemplate,
  FieldErrorTemplate,
  FieldHelpTemplate,
  BaseInputTemplate,
  ButtonTemplates,
};

// ---------------------------------------------------------------- widgets

function SelectWidget({ id, options, value, required, disabled, readonly, multiple, onChange, onBlur, onFocus, placeholder, rawErrors }: WidgetProps) {
  const enumOptions = options.enumOptions ?? [];
  const data = enumOptions.map((o, i) => ({ value: String(i), label: o.label, disabled: options.enumDisabled?.includes(o.value) }));
  const common = {
    id,
    data,
    required,
    disabled: disabled || readonly,
    placeholder,
    error: rawErrors?.length ? true : undefined,
    'aria-describedby': ariaDescribedByIds(id),
    comboboxProps: { withinPortal: true },
    onBlur: () => onBlur(id, value),
    onFocus: () => onFocus(id, value),
  };
  if (multiple) {
    const selected = (enumOptionsIndexForValue(value, enumOptions, true) as string[] | undefined) ?? [];
    return <MultiSelect {...common} value={selected} onChange={(v) => onChange(enumOptionsValueForIndex(v, enumOptions, options.emptyValue))} />;
  }
  const selected = enumOptionsIndexForValue(value, enumOptions, false) as string | undefined;
  return (
    <Select
      {...common}
      value={selected ?? null}
      allowDeselect={!required}
      onChange={(v) => onChange(v === null ? options.emptyValue : enumOptionsValueForIndex(v, enumOptions, options.emptyValue))}
    />
  );
}

function CheckboxWidget({ id, value, disabled, readonly, label, hideLabel, onChange, onBlur, onFocus, schema, options, registry, uiSchema, required }: WidgetProps) {
  const description = options.description ?? schema.description;
  const DescriptionField = getTemplate('DescriptionFieldTemplate', registry, options);
  return (
    <div>
      <Checkbox
        id={id}
        checked={value === true}
        disabled={disabled || readonly}
        label={hideLabel ? undefined : `${label}${required ? ' *' : ''}`}
        aria-label={hideLabel ? label : undefined}
        aria-describedby={ariaDescribedByIds(id)}
        onChange={(e) => onChange(e.currentTarget.checked)}
        onBlur={() => onBlur(id, value)}
        onFocus={() => onFocus(id, value)}
      />
      {!hideLabel && description && <DescriptionField id={descriptionId(id)} description={description} schema={schema} uiSchema={uiSchema} registry={registry} />}
    </div>
  );
}

function TextareaWidget({ id, value, disabled, readonly, autofocus, onChange, onBlur, onFocus, options, placeholder, rawErrors, required }: WidgetProps) {
  return (
    <Textarea
      id={id}
      value={value ?? ''}
      required={required}
      disabled={disabled}
      readOnly={readonly}
      autoFocus={autofocus}
      placeholder={placeholder}
      autosize
      minRows={typeof options.rows === 'number' ? options.rows : 3}
      maxRows={16}
      error={rawErrors?.length ? true : undefined}
      aria-describedby={ariaDescribedByIds(id)}
      onChange={(e) => onChange(e.currentTarget.value === '' ? options.emptyValue : e.currentTarget.value)}
      onBlur={(e) => onBlur(id, e.currentTarget.value)}
      onFocus={(e) => onFocus(id, e.currentTarget.value)}
    />
  );
}

const widgets: RegistryWidgetsType = { SelectWidget, CheckboxWidget, TextareaWidget, PasswordWidget };

/** Backstage's field extensions, under the names templates use in `ui:field`. */
export const FIELDS: RegistryFieldsType = { EntityPicker, OwnerPicker, EntityNamePicker, RepoUrlPicker, Secret };

// ---------------------------------------------------------------- validation

/** Backstage's messages are short: "is required" beside the field rather than ajv's sentence. */
const transformErrors: ErrorTransformer = (errors) =>
  errors.map((e) => {
    if (e.name === 'required') return { ...e, message: 'is required' };
    if (e.name === 'pattern') return { ...e, message: `must match the pattern ${String((e.params as { pattern?: string })?.pattern ?? '')}` };
    return e;
  });

// ---------------------------------------------------------------- the form

export interface ParameterFormProps {
  step: ParameterStep;
  formData: JsonObject;
  onChange: (formData: JsonObject) => void;
  onSubmit?: (formData: JsonObject) => void;
  /** Errors from the server, as RJSF's error schema. */
  extraErrors?: JsonObject;
  secrets: SecretsContext;
  /** The form's own buttons (Next, Back, …); none by default. */
  children?: ReactNode;
  formRef?: Ref<Form>;
  idPrefix?: string;
}

/** One page of a template's form, validated against the page's schema (RJSF's ajv8 validator, see validator.ts) and Backstage's field rules. */
export function ParameterForm({ step, formData, onChange, onSubmit, extraErrors, secrets, children, formRef, idPrefix = 'root' }: ParameterFormProps) {
  const { schema, uiSchema } = useMemo(() => {
    const split = extractSchemaFromStep(step.schema);
    // The page's title and description are the stepper's: not repeated inside the form.
    const { title: _title, description: _description, ...rest } = split.schema;
    return { schema: rest as RJSFSchema, uiSchema: split.uiSchema as UiSchema };
  }, [step.schema]);

  const customValidate = useMemo<CustomValidator>(() => {
    // A pattern of the template's own replaces Backstage's rule (ajv checks it).
    const properties = (schema.properties ?? {}) as Record<string, { pattern?: string }>;
    const names = fieldsWithUiField(uiSchema as JsonObject, 'EntityNamePicker').filter((n) => !properties[n]?.pattern);
    return (data, errors) => {
      for (const name of names) {
        const problem = entityNameProblem((data as JsonObject | undefined)?.[name]);
        if (problem) errors[name]?.addError(problem);
      }
      return errors;
    };
  }, [schema, uiSchema]);

  return (
    <Form
      ref={formRef}
      className="pave-form"
      schema={schema}
      uiSchema={uiSchema}
      formData={formData}
      validator={formValidator}
      fields={FIELDS}
      widgets={widgets}
      templates={templates}
      formContext={secrets}
      idPrefix={idPrefix}
      showErrorList={false}
      noHtml5Validate
      focusOnFirstError
      transformErrors={transformErrors}
      customValidate={customValidate}
      extraErrors={extraErrors as ErrorSchema | undefined}
      onChange={(e) => onChange((e.formData ?? {}) as JsonObject)}
      onSubmit={(e) => onSubmit?.((e.formData ?? {}) as JsonObject)}
    >
      {children ?? <></>}
    </Form>
  );
}
