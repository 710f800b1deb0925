import { DateTimeScalar } from '@firefly/server-kit';
import { Conversation } from './Conversation.ts';
import { Message } from './Message.ts';
import { Query } from './Query.ts';
import { User } from './User.ts';

export const resolvers = { DateTime: DateTimeScalar, Query, Conversation, Message, User };
