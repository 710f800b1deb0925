import { DateTimeScalar, JSONScalar } from '@firefly/server-kit';
import type { Resolvers } from '../generated/resolvers-types.ts';
import { Image } from './Image.ts';
import { ImageJob } from './ImageJob.ts';
import { ImageModel } from './ImageModel.ts';
import { Mutation } from './Mutation.ts';
import { Query } from './Query.ts';
import { Subscription } from './Subscription.ts';
import { TenantOverrides } from './TenantOverrides.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, JSON: JSONScalar, Query, Mutation, Subscription, ImageJob, ImageModel, Image, User, TenantOverrides };
