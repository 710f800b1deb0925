import { DateTimeScalar } from '@firefly/server-kit';
import type { Resolvers } from '../generated/resolvers-types.ts';
import { Conversation } from './Conversation.ts';
import { Message } from './Message.ts';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { Subscription } from './Subscription.ts';
import { TenantOverrides } from './TenantOverrides.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, Subscription, Conversation, Message, User, TenantOverrides };
