import { DateTimeScalar } from '@firefly/server-kit';
import type { Resolvers } from '../generated/resolvers-types.ts';
import { Mutation } from './Mutation.ts';
import { Order } from './Order.ts';
import { LedgerEntry, Partner } from './Partner.ts';
import { Query } from './Query.ts';
import { Reservation } from './Reservation.ts';
import { TenantOverrides } from './TenantOverrides.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, User, Order, Reservation, Partner, LedgerEntry, TenantOverrides };
