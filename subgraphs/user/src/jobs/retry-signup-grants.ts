import type { JobDefinition } from '@firefly/server-kit';
import type { SignupGrants } from '../domain/signup-grants.ts';

/** Books the sign-up grants registration had to park because billing was unreachable (domain/signup-grants.ts). */
export function retrySignupGrantsJob(options: { signupGrants: SignupGrants; everyMs?: number }): JobDefinition {
  return {
    name: 'retry-signup-grants',
    trigger: { kind: 'interval', everyMs: options.everyMs ?? 15_000 },
    handler: ({ logger }) => options.signupGrants.retryPending(logger),
  };
}
