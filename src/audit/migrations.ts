import type { Migration } from '../core/migrations.ts';

/**
 * The audit log and its retention anchor. Both are append-only in the database itself: a trigger
 * refuses UPDATE, DELETE and TRUNCATE unless the transaction did `set local pave.audit_prune = 'on'`,
 * which only retention pruning does (and then only DELETE on the log, and writing the anchor).
 */
export const auditMigrations: Migration[] = [
  {
    id: '0200-audit',
    sql: `
      create table audit_log (
        id bigserial primary key,
        at timestamptz not null,
        actor text not null,
        actor_type text not null check (actor_type in ('user','service','guest','anonymous')),
        auth_method text not null check (auth_method in ('session','token','password','oidc','none')),
        token_id text,
        action text not null,
        target text,
        outcome text not null check (outcome in ('success','denied','error')),
        status int,
        source_ip text,
        request_id text,
        method text,
        path text,
        details jsonb not null default '{}',
        prev_hash text not null,
        hash text not null
      );
      create index audit_log_at on audit_log (at);
      create index audit_log_actor on audit_log (actor, id);
      create index audit_log_action on audit_log (action text_pattern_ops, id);
      create index audit_log_target on audit_log (target, id) where target is not null;
      create index audit_log_outcome on audit_log (outcome, id);
      create index audit_log_request on audit_log (request_id) where request_id is not null;

      create table audit_anchor (
        singleton boolean primary key default true check (singleton),
        last_pruned_id bigint not null,
        last_pruned_hash text not null,
        pruned_at timestamptz not null default now()
      );

      create function pave_audit_guard() returns trigger language plpgsql as $$
      begin
        if current_setting('pave.audit_prune', true) = 'on' and (tg_op = 'DELETE' or tg_table_name = 'audit_anchor') then
          if tg_op = 'DELETE' then
            return old;
          end if;
          return new;
        end if;
        raise exception 'AUDIT_APPEND_ONLY: % on % is refused: the audit log is append-only', tg_op, tg_table_name
          using errcode = '42501', hint = 'Entries leave the audit log only through retention pruning (audit.retentionDays).';
      end
      $$;
      create trigger audit_log_append_only before update or delete on audit_log
        for each row execute function pave_audit_guard();
      create trigger audit_log_no_truncate before truncate on audit_log
        for each statement execute function pave_audit_guard();
      create trigger audit_anchor_guard before insert or update or delete on audit_anchor
        for each row execute function pave_audit_guard();
      create trigger audit_anchor_no_truncate before truncate on audit_anchor
        for each statement execute function pave_audit_guard();
    `,
  },
];
