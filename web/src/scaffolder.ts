// Client for Pave's scaffolder (Backstage's v2 API under /api/scaffolder): templates and their
// forms, template runs (tasks) with their live event stream, dry-runs and the list of actions.
// Also the form logic Backstage's scaffolder frontend applies to a template's parameters.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { apiRequest, queryEntities, type Entity } from './api.ts';

export const SCAFFOLDER_API = '/api/scaffolder/v2';

export type JsonObject = Record<string, unknown>;

/** One page of a template's form: a JSON Schema whose properties carry `ui:*` hints. */
export interface ParameterStep {
  title: string;
  description?: string;
  schema: JsonObject;
}

export interface TemplateParameterSchema {
  title: string;
  description?: string;
  steps: ParameterStep[];
}

export type TaskStatus = 'open' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type StepStatus = 'open' | 'processing' | 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface TaskStep {
  id: string;
  name: string;
  action: string;
  input?: JsonObject;
  if?: string | boolean;
}

export interface ScaffolderTask {
  id: string;
  spec: {
    steps: TaskStep[];
    parameters: JsonObject;
    output: JsonObject;
    templateInfo: { entityRef: string; entity?: { metadata?: { title?: string; name?: string; description?: string } } };
  };
  status: TaskStatus;
  createdAt: string;
  createdBy?: string;
  lastHeartbeatAt?: string;
}

export interface OutputLink {
  title?: string;
  url?: string;
  entityRef?: string;
  icon?: string;
}

export interface OutputText {
  title?: string;
  content?: string;
  default?: boolean;
}

export interface TaskOutput {
  links?: OutputLink[];
  text?: OutputText[];
  [key: string]: unknown;
}

export type TaskEventType = 'log' | 'completion' | 'cancelled' | 'recovered';

export interface TaskEvent {
  id: number;
  taskId: string;
  type: TaskEventType;
  body: {
    message: string;
    stepId?: string;
    status?: StepStatus | TaskStatus;
    output?: TaskOutput;
    error?: { name?: string; message?: string };
  };
  createdAt: string;
}

export interface DirectoryFile {
  path: string;
  base64Content: string;
  executable?: boolean;
}

export interface DryRunResult {
  log: Array<{ body: TaskEvent['body'] }>;
  directoryContents: DirectoryFile[];
  output: TaskOutput;
  steps: TaskStep[];
}

export interface ActionExample {
  description: string;
  example: string;
}

export interface ScaffolderAction {
  id: string;
  description?: string;
  schema?: { input?: JsonObject; output?: JsonObject };
  examples?: ActionExample[];
}

/** A field the server refused (400 TEMPLATE_PARAMETERS_INVALID): a dot path and what is wrong. */
export interface ParameterError {
  field: string;
  message: string;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------- API

export function listTemplates(signal?: AbortSignal) {
  return queryEntities({ filters: [{ kind: 'template' }], orderField: 'metadata.name,asc', limit: 100 }, signal);
}

export function getParameterSchema(namespace: string, name: string, signal?: AbortSignal): Promise<TemplateParameterSchema> {
  return apiRequest(`${SCAFFOLDER_API}/templates/${enc(namespace)}/template/${enc(name)}/parameter-schema`, { signal });
}

export function createTask(body: { templateRef: string; values: JsonObject; secrets?: Record<string, string> }): Promise<{ id: string }> {
  return apiRequest(`${SCAFFOLDER_API}/tasks`, { method: 'POST', body: JSON.stringify(body) });
}

export function getTask(id: string, signal?: AbortSignal): Promise<ScaffolderTask> {
  return apiRequest(`${SCAFFOLDER_API}/tasks/${enc(id)}`, { signal });
}

export function listTasks(q: { createdBy?: string; limit: number; offset: number }, signal?: AbortSignal): Promise<{ tasks: ScaffolderTask[]; totalTasks: number }> {
  const params = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
  if (q.createdBy) params.set('createdBy', q.createdBy);
  return apiRequest(`${SCAFFOLDER_API}/tasks?${params}`, { signal });
}

export function cancelTask(id: string): Promise<{ status: TaskStatus }> {
  return apiRequest(`${SCAFFOLDER_API}/tasks/${enc(id)}/cancel`, { method: 'POST' });
}

export function retryTask(id: string): Promise<{ id: string }> {
  return apiRequest(`${SCAFFOLDER_API}/tasks/${enc(id)}/retry`, { method: 'POST', body: '{}' });
}

export function dryRun(body: { template: unknown; values: JsonObject; secrets?: Record<string, string>; directoryContents: DirectoryFile[] }): Promise<DryRunResult> {
  return apiRequest(`${SCAFFOLDER_API}/dry-run`, { method: 'POST', body: JSON.stringify(body) });
}

export function listActions(signal?: AbortSignal): Promise<ScaffolderAction[]> {
  return apiRequest(`${SCAFFOLDER_API}/actions`, { signal });
}

/**
 * Entities for the pickers, as Backstage's `catalogFilter` describes them: one filter object or a
 * list of them (ORed); a value may be a list (any of) or `{ exists: true }`.
 */
export function queryPickerEntities(catalogFilter: unknown, signal?: AbortSignal): Promise<{ items: Entity[] }> {
  const params = new URLSearchParams();
  for (const conj of catalogFilterStatements(catalogFilter)) params.append('filter', conj);
  params.set('limit', '500');
  params.set('orderField', 'metadata.name,asc');
  return apiRequest(`/api/catalog/entities/by-query?${params}`, { signal });
}

/** `catalogFilter` as `filter=` statements: lists of values are expanded, so each statement is a plain AND. */
export function catalogFilterStatements(catalogFilter: unknown): string[] {
  const filters = (Array.isArray(catalogFilter) ? catalogFilter : [catalogFilter]).filter((f): f is JsonObject => !!f && typeof f === 'object');
  const out: string[] = [];
  for (const filter of filters) {
    let conjs: string[][] = [[]];
    for (const [key, raw] of Object.entries(filter)) {
      const values = Array.isArray(raw) ? raw : [raw];
      const parts = values.map((v) => (v && typeof v === 'object' && (v as { exists?: boolean }).exists ? key : `${key}=${String(v)}`));
      conjs = conjs.flatMap((c) => parts.map((p) => [...c, p]));
    }
    for (const c of conjs) if (c.length) out.push(c.join(','));
  }
  return out;
}

// ---------------------------------------------------------------- hooks

export function useTemplates() {
  return useQuery({ queryKey: ['templates'], queryFn: ({ signal }) => listTemplates(signal) });
}

export function useParameterSchema(namespace: string, name: string) {
  return useQuery({ queryKey: ['parameter-schema', namespace, name], queryFn: ({ signal }) => getParameterSchema(namespace, name, signal), staleTime: 0 });
}

const FINAL: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

export function isFinal(status: TaskStatus | undefined): boolean {
  return status !== undefined && FINAL.has(status);
}

/** The task; looked at again while it runs (the event stream is what shows progress, this is its backstop). */
export function useTask(id: string) {
  return useQuery({
    queryKey: ['task', id],
    queryFn: ({ signal }) => getTask(id, signal),
    refetchInterval: (q) => (isFinal(q.state.data?.status) ? false : 3000),
  });
}

export function useActions(enabled = true) {
  return useQuery({ queryKey: ['scaffolder-actions'], queryFn: ({ signal }) => listActions(signal), staleTime: 5 * 60_000, enabled });
}

export interface LogLine {
  id: number;
  at: string;
  message: string;
}

/** What a run's events say so far: each step's status, its log, the run's status and output. */
export interface TaskRun {
  lastId: number;
  status?: TaskStatus;
  steps: Record<string, { status: StepStatus; startedAt?: string; endedAt?: string }>;
  /** Per step id; `''` holds the run's own lines (completion, cancellation, retries). */
  logs: Record<string, LogLine[]>;
  output?: TaskOutput;
  error?: string;
  /** The stream said the run is over: no more events are expected. */
  done: boolean;
}

const EMPTY_RUN: TaskRun = { lastId: 0, steps: {}, logs: {}, done: false };

function addLine(logs: TaskRun['logs'], key: string, e: TaskEvent): TaskRun['logs'] {
  return { ...logs, [key]: [...(logs[key] ?? []), { id: e.id, at: e.createdAt, message: e.body.message }] };
}

/**
 * Folds one event into the run (events replayed from the start give the same state as live ones).
 * `reopen`: the run was retried, more events are coming.
 */
export function reduceTaskEvent(run: TaskRun, e: TaskEvent | 'reopen'): TaskRun {
  if (e === 'reopen') return { ...run, done: false };
  if (e.id <= run.lastId) return run;
  const next: TaskRun = { ...run, lastId: e.id };
  const { stepId, status } = e.body;
  if (e.type === 'log') {
    next.logs = addLine(run.logs, stepId ?? '', e);
    if (stepId && status) {
      const prev = run.steps[stepId];
      next.steps = {
        ...run.steps,
        [stepId]: {
          status: status as StepStatus,
          startedAt: status === 'processing' ? e.createdAt : prev?.startedAt,
          endedAt: status === 'processing' ? undefined : e.createdAt,
        },
      };
    }
    if (!next.status || next.status === 'open') next.status = 'processing';
  } else if (e.type === 'completion') {
    next.logs = addLine(run.logs, '', e);
    next.status = status === 'failed' ? 'failed' : status === 'cancelled' ? 'cancelled' : 'completed';
    next.output = e.body.output;
    next.error = e.body.error?.message;
    next.done = true;
  } else if (e.type === 'cancelled') {
    next.logs = addLine(run.logs, '', e);
    next.status = 'cancelled';
    // Steps that were running stop there.
    next.steps = Object.fromEntries(
      Object.entries(run.steps).map(([id, s]) => [id, s.status === 'processing' ? { ...s, status: 'cancelled' as const, endedAt: e.createdAt } : s]),
    );
  } else if (e.type === 'recovered') {
    // A retry (or a takeover after a restart) runs the steps again from the start.
    next.logs = addLine(run.logs, '', e);
    next.steps = {};
    next.status = 'processing';
    next.output = undefined;
    next.error = undefined;
    next.done = false;
  }
  return next;
}

/**
 * A run's events, live, from its server-sent event stream (the browser's EventSource sends the
 * session cookie); the stream closes when the run completes, and `reopen` (after a retry) opens
 * it again from the last event seen. Mount it once per task (key the component by the task id).
 */
export function useTaskEvents(taskId: string): TaskRun & { connected: boolean; reopen: () => void } {
  const [run, dispatch] = useReducer(reduceTaskEvent, EMPTY_RUN);
  const [connected, setConnected] = useState(false);
  const lastId = useRef(0);
  lastId.current = run.lastId;
  const done = run.done;

  useEffect(() => {
    if (done) return;
    const after = lastId.current;
    const source = new EventSource(`${SCAFFOLDER_API}/tasks/${enc(taskId)}/eventstream${after ? `?after=${after}` : ''}`);
    const onEvent = (msg: MessageEvent<string>) => {
      try {
        const e = JSON.parse(msg.data) as TaskEvent;
        dispatch(e);
        if (e.type === 'completion') source.close();
      } catch {
        // not an event of ours
      }
    };
    for (const type of ['log', 'completion', 'cancelled', 'recovered'] as const) source.addEventListener(type, onEvent);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(source.readyState === EventSource.OPEN);
    return () => {
      source.close();
      setConnected(false);
    };
    // The stream is reopened only when the run is retried, never for each event.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [taskId, done]);

  const reopen = useCallback(() => dispatch('reopen'), []);
  return { ...run, connected, reopen };
}

// ---------------------------------------------------------------- form logic

/**
 * Splits a page of a template's form into the JSON Schema and the uiSchema RJSF wants: every
 * `ui:*` key moves out, following properties, items, anyOf/oneOf/allOf and dependencies
 * (Backstage's `extractSchemaFromStep`).
 */
export function extractSchemaFromStep(step: JsonObject): { schema: JsonObject; uiSchema: JsonObject } {
  const schema = JSON.parse(JSON.stringify(step)) as JsonObject;
  const uiSchema: JsonObject = {};
  extractUiSchema(schema, uiSchema);
  return { schema, uiSchema };
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function extractUiSchema(schema: JsonObject, uiSchema: JsonObject): void {
  for (const key of Object.keys(schema)) {
    if (key.startsWith('ui:')) {
      uiSchema[key] = schema[key];
      delete schema[key];
    }
  }
  // Backstage (RJSF 5) reads an enum's labels from the schema's `enumNames`; RJSF 6 only from `ui:enumNames`.
  if (Array.isArray(schema.enumNames) && uiSchema['ui:enumNames'] === undefined) uiSchema['ui:enumNames'] = schema.enumNames;
  const { properties, items, anyOf, oneOf, allOf, dependencies } = schema;
  if (isObject(properties)) {
    for (const [name, node] of Object.entries(properties)) {
      if (!isObject(node)) continue;
      const inner = (isObject(uiSchema[name]) ? uiSchema[name] : {}) as JsonObject;
      uiSchema[name] = inner;
      extractUiSchema(node, inner);
    }
  }
  if (isObject(items)) {
    const inner: JsonObject = {};
    uiSchema.items = inner;
    extractUiSchema(items, inner);
  }
  for (const list of [anyOf, oneOf, allOf]) {
    if (Array.isArray(list)) for (const node of list) if (isObject(node)) extractUiSchema(node, uiSchema);
  }
  if (isObject(dependencies)) {
    for (const node of Object.values(dependencies)) if (isObject(node)) extractUiSchema(node, uiSchema);
  }
}

/** The pages of a Template entity's form, as `parameter-schema` answers them (for the editor's preview). */
export function stepsOfTemplate(template: unknown): ParameterStep[] {
  const params = isObject(template) && isObject(template.spec) ? template.spec.parameters : undefined;
  const pages = Array.isArray(params) ? params : isObject(params) ? [params] : [];
  return pages.filter(isObject).map((page) => ({
    title: typeof page.title === 'string' ? page.title : 'Please enter the following information',
    description: typeof page.description === 'string' ? page.description : undefined,
    schema: page,
  }));
}

/** Fields whose values are secrets (`ui:field: Secret`, `ui:widget: password`): sent as `secrets`, never as values. */
export function secretFields(steps: ParameterStep[]): string[] {
  const names: string[] = [];
  for (const step of steps) {
    for (const [name, prop] of Object.entries((step.schema.properties ?? {}) as Record<string, JsonObject>)) {
      if (prop?.['ui:field'] === 'Secret' || prop?.['ui:widget'] === 'password') names.push(name);
    }
  }
  return names;
}

/** The properties a page asks for, those of its conditional parts (dependencies, oneOf…) included. */
function pageProperties(schema: JsonObject): Map<string, JsonObject> {
  const props = new Map<string, JsonObject>();
  const collect = (s: JsonObject) => {
    if (isObject(s.properties)) for (const [k, v] of Object.entries(s.properties)) if (isObject(v) && !props.has(k)) props.set(k, v);
    for (const list of [s.anyOf, s.oneOf, s.allOf]) if (Array.isArray(list)) list.filter(isObject).forEach(collect);
    if (isObject(s.dependencies)) Object.values(s.dependencies).filter(isObject).forEach(collect);
  };
  collect(schema);
  return props;
}

/** The step a top-level field is asked on (for errors the server reports), or -1. */
export function stepOfField(steps: ParameterStep[], field: string): number {
  const top = field.split('.')[0]!;
  return steps.findIndex((s) => pageProperties(s.schema).has(top));
}

/**
 * RJSF's error schema (`{ name: { __errors: [...] } }`) for the server's field errors; an error of
 * the values as a whole (`(values)`) belongs to no field and is left to the page's alert.
 */
export function errorSchemaOf(errors: ParameterError[]): JsonObject {
  const root: JsonObject = {};
  for (const e of errors) {
    if (e.field === '(values)') continue;
    const path = e.field.split('.');
    let node = root;
    for (const part of path) node = (node[part] ??= {}) as JsonObject;
    ((node.__errors ??= []) as string[]).push(e.message);
  }
  return root;
}

export interface ReviewEntry {
  name: string;
  label: string;
  value: string;
  secret: boolean;
  step: number;
}

/** What the review page lists: each field's title and value, secrets masked, `ui:backstage.review.show: false` left out. */
export function reviewEntries(steps: ParameterStep[], values: JsonObject, secrets: readonly string[]): ReviewEntry[] {
  const out: ReviewEntry[] = [];
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    const { schema, uiSchema } = extractSchemaFromStep(step.schema);
    for (const [name, prop] of pageProperties(schema)) {
      if (seen.has(name) || values[name] === undefined || values[name] === '') continue;
      const ui = (uiSchema[name] ?? {}) as JsonObject;
      const review = (ui['ui:backstage'] as JsonObject | undefined)?.review as { show?: boolean; mask?: string } | undefined;
      if (review?.show === false) continue;
      seen.add(name);
      const secret = secrets.includes(name) || typeof review?.mask === 'string';
      const v = values[name];
      out.push({
        name,
        label: typeof prop.title === 'string' ? prop.title : name,
        value: secret ? (review?.mask ?? '••••••••') : typeof v === 'string' ? v : JSON.stringify(v),
        secret,
        step: i,
      });
    }
  });
  return out;
}

/** Backstage's entity name rule (EntityNamePicker): 1–63 characters, letters, digits, `-_.`, alphanumeric at both ends. */
export function entityNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.length > 63) return 'must be at most 63 characters';
  if (!/^[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(value)) return 'must start and end with a letter or digit, and use only letters, digits, "-", "_" and "."';
  return undefined;
}

/** The top-level fields drawn by a given `ui:field` on a page. */
export function fieldsWithUiField(uiSchema: JsonObject, field: string): string[] {
  return Object.entries(uiSchema)
    .filter(([, v]) => isObject(v) && v['ui:field'] === field)
    .map(([k]) => k);
}

// ---------------------------------------------------------------- text in base64

export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function decodeBase64(b64: string): { text: string; binary: boolean } {
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return { text: new TextDecoder().decode(bytes), binary: bytes.includes(0) };
}

/**
 * What a run is sent: the form's values without its secret fields, and the secrets typed in
 * those fields (Backstage sends them apart, so they are never stored with the task).
 */
export function splitSecrets(formData: JsonObject, typed: Record<string, string>, fields: readonly string[]): { values: JsonObject; secrets: Record<string, string> } {
  const values: JsonObject = {};
  for (const [k, v] of Object.entries(formData)) if (!fields.includes(k)) values[k] = v;
  const secrets: Record<string, string> = {};
  for (const f of fields) if (typed[f]) secrets[f] = typed[f];
  return { values, secrets };
}
