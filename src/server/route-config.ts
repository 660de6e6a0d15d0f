/**
 * What every route declares about access. Pave refuses to start when a route declares neither,
 * so no route can be added without a decision about who may call it.
 */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission checked before the handler runs, e.g. `catalog.entity.read`. */
    permission?: string;
    /** Reachable without signing in (health, sign-in itself, the portal's files). */
    public?: boolean;
  }
}

export {};
