import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CREDENTIAL_HEADER } from '@firefly/auth';
import type { GatewayContext } from './context.ts';

/**
 * Calls a subgraph with the gateway-issued credential of the current request. Nothing the client sent is
 * forwarded as-is: the subgraph learns who is calling only from the signed credential.
 */
export class CredentialedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    // Health checks and schema loading run without a request context; they carry no identity.
    if (!context || !('credential' in context)) return;
    request.http?.headers.set(CREDENTIAL_HEADER, await context.credential());
    request.http?.headers.set('x-request-id', context.requestId);
  }
}
