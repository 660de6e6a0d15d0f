import type { Migration } from '../core/migrations.ts';

/**
 * One row per OIDC sign-in in progress: the `state` sent to the provider names the row, which
 * holds the nonce and PKCE verifier the callback needs. A callback consumes its row exactly once.
 */
export const oidcMigrations: Migration[] = [
  {
    id: '0301-identity-oidc',
    sql: `
      create table auth_oidc_flows (
        state text primary key,
        nonce text not null,
        code_verifier text not null,
        return_to text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        consumed_at timestamptz
      );
      create index auth_oidc_flows_expires_at on auth_oidc_flows (expires_at);
    `,
  },
];
