import type { AuthConfig, PolicyRuleConfig } from '../core/config.ts';
import type { Store } from '../core/store.ts';
import { AccountService } from './accounts.ts';
import { DeviceFlow } from './device.ts';
import { Policy } from './policy.ts';
import { SessionService } from './sessions.ts';
import { TokenService } from './tokens.ts';
import { UserDirectory } from './users.ts';

/** Everything that says who a caller is and what they may do. */
export class Identity {
  readonly users: UserDirectory;
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly accounts: AccountService;
  readonly device: DeviceFlow;
  readonly policy: Policy;
  /** Loads a resource by its ref for the permission API's per-resource answers. */
  readonly resourceLoaders = new Map<string, (ref: string) => Promise<unknown>>();

  constructor(
    readonly store: Store,
    readonly config: AuthConfig,
    rules: PolicyRuleConfig[],
  ) {
    this.users = new UserDirectory(store, config.roles);
    this.tokens = new TokenService(store, config.tokens, this.users);
    this.sessions = new SessionService(store, config.session, this.users);
    this.accounts = new AccountService(store, config.local);
    this.device = new DeviceFlow(store);
    this.policy = new Policy(rules);
  }
}
