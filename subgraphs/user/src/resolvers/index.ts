import { DateTimeScalar } from '@firefly/server-kit';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { User } from './User.ts';

export const resolvers = { DateTime: DateTimeScalar, Query, Mutation, User };
