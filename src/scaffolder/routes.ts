import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { parseRef, stringifyRef } from '../catalog/refs.ts';
import { badInput, notFound } from '../core/errors.ts';
import '../identity/access.ts';
import { definePermission } from '../identity/permissions.ts';
import type { TemplateAction } from './action.ts';
import { listTemplatingExtensions } from './filters.ts';
import type { Scaffolder } from './service.ts';
import type { Task, TaskStore } from './tasks.ts';
import { parameterSchema, type TemplateEntity } from './template.ts';

definePermission({ name: 'scaffolder.task.create', action: 'create', description: 'Run a template (and dry-run one)' });
definePermission({ name: 'scaffolder.task.read', action: 'read', description: 'Read template runs and their logs' });
definePermission({ name: 'scaffolder.task.cancel', action: 'update', resourceType: 'scaffolder-task', description: 'Cancel or retry a template run' });
definePermission({ name: 'scaffolder.action.read', action: 'read', description: 'List the actions templates can use' });

const tags = ['scaffolder'];
// Readers of a run's events wake on each new one, from any replica (TaskStore.listenAcrossProcesses);
// they also look now and then, in case a notification was lost with a connection.
const FALLBACK_POLL_MS = 5000;
const READ_ENTITY = 'catalog.entity.read';
const TaskParams = Type.Object({ taskId: Type.String() });
const ScaffoldBody = Type.Object({
  templateRef: Type.String(),
  values: Type.Record(Type.String(), Type.Unknown()),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String())),
});
const DryRunBody = Type.Object({
  template: Type.Unknown(),
  values: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String())),
  directoryContents: Type.Optional(Type.Array(Type.Object({ path: Type.String(), base64Content: Type.String(), executable: Type.Optional(Type.Boolean()) }))),
});

/** Backstage's task JSON: what `ScaffolderClient.getTask` and `listTasks` read. */
const publicTask = (t: Task) => ({ id: t.id, spec: t.spec, status: t.status, createdAt: t.createdAt, lastHeartbeatAt: t.lastHeartbeatAt, createdBy: t.createdBy });

/** Backstage's scaffolder REST API (`/api/scaffolder/v2/…`), which the official ScaffolderClient uses unchanged. */
export async function scaffolderRoutes(
  app: FastifyInstance,
  deps: { catalog: Catalog; scaffolder: Scaffolder; tasks: TaskStore; actions: ReadonlyMap<string, TemplateAction> },
): Promise<void> {
  const { catalog, scaffolder, tasks, actions } = deps;
  const streams = new Set<() => void>();
  // Open event streams would hold shutdown for ever: they end when the server closes.
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  async function templateFor(req: { access: { allows(p: string, r?: unknown): boolean } }, ref: string): Promise<TemplateEntity> {
    let key: string;
    try {
      key = stringifyRef(parseRef(ref, { defaultKind: 'template', defaultNamespace: 'default' }));
    } catch (e) {
      throw badInput('TEMPLATE_REF_INVALID', (e as Error).message, { templateRef: ref });
    }
    const entity = await catalog.byRef(key).catch(() => undefined);
    if (!entity || entity.kind !== 'Template' || !req.access.allows(READ_ENTITY, entity)) {
      throw notFound('TEMPLATE_NOT_FOUND', `No template ${key} in the catalog; register its template.yaml first`, { templateRef: key });
    }
    return entity as TemplateEntity;
  }

  app.post<{ Body: Static<typeof ScaffoldBody> }>(
    '/v2/tasks',
    { config: { permission: 'scaffolder.task.create' }, schema: { tags, summary: 'Run a template with the values of its form', body: ScaffoldBody } },
    async (req, reply) => {
      const template = await templateFor(req, req.body.templateRef);
      const ref = stringifyRef({ kind: 'Template', namespace: template.metadata.namespace, name: template.metadata.name });
      req.audit.target = ref;
      const userEntity = req.principal.ref ? await catalog.byRef(req.principal.ref).catch(() => undefined) : undefined;
      const id = await scaffolder.create(template, ref, req.body.values, req.body.secrets ?? {}, { ref: req.principal.ref ?? undefined, entity: userEntity });
      return reply.status(201).send({ id });
    },
  );

  const ListQuery = Type.Object({
    createdBy: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    status: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    order: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  });
  const asList = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v2/tasks',
    { config: { permission: 'scaffolder.task.read' }, schema: { tags, summary: 'Template runs, newest first (createdBy, status, limit, offset)', querystring: ListQuery } },
    async (req) => {
      const order = asList(req.query.order)?.[0];
      const result = await tasks.list({ createdBy: asList(req.query.createdBy), status: asList(req.query.status), limit: req.query.limit, offset: req.query.offset, order: order?.startsWith('asc') ? 'asc' : 'desc' });
      return { tasks: result.tasks.map(publicTask), totalTasks: result.totalTasks };
    },
  );

  app.get<{ Params: Static<typeof TaskParams> }>(
    '/v2/tasks/:taskId',
    { config: { permission: 'scaffolder.task.read' }, schema: { tags, summary: 'One template run', params: TaskParams } },
    async (req) => publicTask(await tasks.get(req.params.taskId)),
  );

  const AfterQuery = Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })) });
  app.get<{ Params: Static<typeof TaskParams>; Querystring: Static<typeof AfterQuery> }>(
    '/v2/tasks/:taskId/events',
    { config: { permission: 'scaffolder.task.read' }, schema: { tags, summary: 'The run’s events after an id; waits up to 20 s for new ones (long polling)', params: TaskParams, querystring: AfterQuery } },
    async (req) => {
      await tasks.get(req.params.taskId);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const events = await tasks.events(req.params.taskId, req.query.after);
        if (events.length || Date.now() > deadline) return events;
        await new Promise<void>((resolve) => {
          const off = tasks.onEvents(req.params.taskId, () => {
            off();
            clearTimeout(t);
            resolve();
          });
          // Other replicas' events arrive by NOTIFY too; this is a safety net.
          const t = setTimeout(() => {
            off();
            resolve();
          }, FALLBACK_POLL_MS);
        });
      }
    },
  );

  app.get<{ Params: Static<typeof TaskParams>; Querystring: Static<typeof AfterQuery> }>(
    '/v2/tasks/:taskId/eventstream',
    { config: { permission: 'scaffolder.task.read' }, schema: { tags, summary: 'The run’s events as server-sent events (log, completion, cancelled, recovered)', params: TaskParams, querystring: AfterQuery } },
    async (req, reply) => {
      await tasks.get(req.params.taskId);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      // A reconnecting EventSource sends the id of the last event it saw.
      const lastEventId = Number(req.headers['last-event-id']);
      let after = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : (req.query.after ?? 0);
      let closed = false;
      let sending = false;
      let again = false;
      const send = async () => {
        if (sending) {
          again = true;
          return;
        }
        sending = true;
        try {
          do {
            again = false;
            for (const e of await tasks.events(req.params.taskId, after)) {
              if (closed) return;
              after = e.id;
              res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
            }
          } while (again && !closed);
        } catch (e) {
          req.log.warn({ err: e }, 'event stream failed');
        } finally {
          sending = false;
        }
      };
      const off = tasks.onEvents(req.params.taskId, () => void send());
      const poll = setInterval(() => void send(), FALLBACK_POLL_MS);
      const end = () => {
        if (closed) return;
        closed = true;
        off();
        clearInterval(poll);
        streams.delete(end);
        res.end();
      };
      streams.add(end);
      req.raw.on('close', end);
      await send();
    },
  );

  app.post<{ Params: Static<typeof TaskParams> }>(
    '/v2/tasks/:taskId/cancel',
    { config: { permission: 'scaffolder.task.cancel' }, schema: { tags, summary: 'Cancel a run (the current step is told to stop)', params: TaskParams } },
    async (req) => {
      const task = await tasks.get(req.params.taskId);
      req.audit.target = `task:${task.id}`;
      req.access.authorize('scaffolder.task.cancel', task);
      return { status: await tasks.cancel(task.id) };
    },
  );

  app.post<{ Params: Static<typeof TaskParams>; Body: { secrets?: Record<string, string> } | undefined }>(
    '/v2/tasks/:taskId/retry',
    { config: { permission: 'scaffolder.task.cancel' }, schema: { tags, summary: 'Run a failed or cancelled task again (side effects already done are not repeated)', params: TaskParams } },
    async (req, reply) => {
      const task = await tasks.get(req.params.taskId);
      req.audit.target = `task:${task.id}`;
      req.access.authorize('scaffolder.task.cancel', task);
      await tasks.retry(task.id, req.body?.secrets);
      scaffolder.kick();
      return reply.status(201).send({ id: task.id });
    },
  );

  app.get('/v2/actions', { config: { permission: 'scaffolder.action.read' }, schema: { tags, summary: 'The actions templates can use, with their schemas and examples' } }, async () =>
    [...actions.values()].map((a) => ({ id: a.id, description: a.description, schema: a.schema, examples: a.examples })),
  );

  app.get('/v2/templating-extensions', { config: { permission: 'scaffolder.action.read' }, schema: { tags, summary: 'The filters and globals of ${{ }} expressions' } }, async () => listTemplatingExtensions());

  const TemplateParams = Type.Object({ namespace: Type.String(), kind: Type.String(), name: Type.String() });
  app.get<{ Params: Static<typeof TemplateParams> }>(
    '/v2/templates/:namespace/:kind/:name/parameter-schema',
    { config: { permission: READ_ENTITY }, schema: { tags, summary: "A template's form, page by page", params: TemplateParams } },
    async (req) => parameterSchema(await templateFor(req, `${req.params.kind}:${req.params.namespace}/${req.params.name}`)),
  );

  app.post<{ Body: Static<typeof DryRunBody> }>(
    '/v2/dry-run',
    { config: { permission: 'scaffolder.task.create' }, schema: { tags, summary: 'Run a template with side effects simulated; answers the files it would produce and its log', body: DryRunBody } },
    async (req) => scaffolder.dryRun({ template: req.body.template, values: req.body.values ?? {}, secrets: req.body.secrets, directoryContents: req.body.directoryContents }, { ref: req.principal.ref ?? undefined }),
  );
}
