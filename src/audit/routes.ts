import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import '../server/route-config.ts';
import { AuditEntrySchema } from './entry.ts';
import type { AuditLog } from './log.ts';

const tags = ['audit'];

const Filters = {
  actor: Type.Optional(Type.String({ description: 'Exact actor, e.g. user:default/jane' })),
  action: Type.Optional(Type.String({ description: 'Exact action, or a prefix ending with * (catalog.*)' })),
  outcome: Type.Optional(Type.String({ description: 'success, denied or error' })),
  target: Type.Optional(Type.String({ description: 'Exact target' })),
  from: Type.Optional(Type.String({ description: 'At or after this time (ISO 8601)' })),
  to: Type.Optional(Type.String({ description: 'At or before this time (ISO 8601)' })),
};
const ListQuery = Type.Object({
  ...Filters,
  after: Type.Optional(Type.String({ minLength: 1, description: 'nextCursor of the page before' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
const ExportQuery = Type.Object(Filters);
const Page = Type.Object({ items: Type.Array(AuditEntrySchema), nextCursor: Type.Optional(Type.String()) });
const BrokenAt = Type.Object({
  id: Type.Integer(),
  line: Type.Optional(Type.Integer()),
  problem: Type.Union([Type.Literal('changed'), Type.Literal('gap'), Type.Literal('start'), Type.Literal('order'), Type.Literal('malformed')]),
  reason: Type.String(),
});
const Verification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  firstId: Type.Optional(Type.Integer()),
  lastId: Type.Optional(Type.Integer()),
  lastHash: Type.Optional(Type.String()),
  startHash: Type.Optional(Type.String()),
  brokenAt: Type.Optional(BrokenAt),
});

/** The audit log's API: read a page, export as JSON lines, verify the hash chain. */
export async function auditRoutes(app: FastifyInstance, audit: AuditLog): Promise<void> {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags,
        summary: 'List audit entries, newest first, filtered, with a cursor',
        querystring: ListQuery,
        response: { 200: Page },
      },
    },
    async (req) => audit.query(req.query),
  );

  app.get<{ Querystring: Static<typeof ExportQuery> }>(
    '/export',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags,
        summary: 'Export audit entries as JSON lines, oldest first, with their hashes (verify offline with pave audit verify --file)',
        querystring: ExportQuery,
      },
    },
    async (req, reply) => {
      const lines = audit.export(req.query);
      const date = new Date().toISOString().slice(0, 10);
      async function* body() {
        for await (const line of lines) yield `${line}\n`;
      }
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="pave-audit-${date}.jsonl"`)
        .send(Readable.from(body()));
    },
  );

  app.get(
    '/verify',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags,
        summary: 'Recompute the hash chain and report the first entry that was altered, removed or reordered',
        response: { 200: Verification },
      },
    },
    async () => audit.verify(),
  );
}
