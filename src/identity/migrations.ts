import type { Migration } from '../core/migrations.ts';

export const identityMigrations: Migration[] = [
  {
    id: '0300-identity',
    sql: `
      -- Local accounts: the bootstrap admin and small installs without SSO.
      create table auth_accounts (
        username text primary key,
        password_hash text not null,
        entity_ref text not null,
        role text,
        failed_attempts int not null default 0,
        locked_until timestamptz,
        created_at timestamptz not null default now(),
        password_changed_at timestamptz not null default now()
      );

      -- Portal sessions; only a hash of the cookie value is kept.
      create table auth_sessions (
        id_hash text primary key,
        principal_ref text not null,
        principal_type text not null,
        provider text not null,
        created_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz,
        source_ip text,
        user_agent text
      );
      create index auth_sessions_principal on auth_sessions (principal_ref);

      -- API tokens; the secret part is kept only as a hash and shown once at creation.
      create table auth_tokens (
        id text primary key,
        secret_hash text not null,
        name text not null,
        kind text not null,
        owner_ref text not null,
        created_by text not null,
        role text,
        owners text[] not null default '{}',
        scopes text[] not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        last_used_ip text
      );
      create index auth_tokens_owner on auth_tokens (owner_ref);

      -- The CLI's device authorization grant (RFC 8628).
      create table auth_device_codes (
        device_code_hash text primary key,
        user_code text not null unique,
        client_name text not null,
        scopes text[] not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        approved_by text,
        denied_at timestamptz,
        consumed_at timestamptz,
        last_polled_at timestamptz
      );
    `,
  },
];
