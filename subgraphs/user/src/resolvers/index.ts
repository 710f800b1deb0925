import { DateTimeScalar, JSONScalar } from '@firefly/server-kit';
import { AuditEvent } from './AuditEvent.ts';
import type { Resolvers } from '../generated/resolvers-types.ts';
import { Mutation } from './Mutation.ts';
import { Partner } from './Partner.ts';
import { Query } from './Query.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, JSON: JSONScalar, Query, Mutation, User, Partner, AuditEvent };
