import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import './route-config.ts';
import type { EventLog, JobQueue, JobStatus, Store } from '../core/index.ts';

const Job = Type.Object({}, { additionalProperties: true, description: 'A job of the durable queue' });

/** The platform core's own API: jobs and the event log. */
export async function coreRoutes(app: FastifyInstance, deps: { jobs: JobQueue; events: EventLog; store: Store }): Promise<void> {
  const { jobs, events } = deps;
  app.get<{ Querystring: { status?: JobStatus; kind?: string; limit?: number; before?: number } }>(
    '/jobs',
    {
      config: { permission: 'jobs.read' },
      schema: {
        tags: ['jobs'],
        summary: 'List jobs, newest first (running, queued, failed, succeeded)',
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')])),
          kind: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          before: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(Job), counts: Type.Record(Type.String(), Type.Integer()) }) },
      },
    },
    async (req) => ({ items: await jobs.list(req.query), counts: await jobs.counts() }),
  );
  app.get<{ Params: { id: number } }>(
    '/jobs/:id',
    { config: { permission: 'jobs.read' }, schema: { tags: ['jobs'], summary: 'One job', params: Type.Object({ id: Type.Integer() }), response: { 200: Job } } },
    async (req) => jobs.get(req.params.id),
  );
  app.post<{ Params: { id: number } }>(
    '/jobs/:id/retry',
    { config: { permission: 'jobs.retry' }, schema: { tags: ['jobs'], summary: 'Queue a failed job again', params: Type.Object({ id: Type.Integer() }), response: { 200: Job } } },
    async (req) => jobs.retry(req.params.id),
  );
  app.get<{ Querystring: { after?: string; type?: string[]; subject?: string; limit?: number } }>(
    '/events',
    {
      config: { permission: 'events.read' },
      schema: {
        tags: ['events'],
        summary: 'Read the event log after a cursor',
        querystring: Type.Object({
          after: Type.Optional(Type.String()),
          type: Type.Optional(Type.Array(Type.String())),
          subject: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ id: Type.Integer(), type: Type.String(), subject: Type.String(), payload: Type.Any(), createdAt: Type.String() })),
            nextCursor: Type.String(),
          }),
        },
      },
    },
    async (req) => events.read({ after: req.query.after, types: req.query.type, subject: req.query.subject, limit: req.query.limit }),
  );
}
