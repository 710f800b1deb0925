/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation CancelOrder($id: ID!) {\n  cancelOrder(id: $id) {\n    ...OrderFields\n  }\n}": typeof types.CancelOrderDocument,
    "mutation CreateOrder($productId: ID!, $channel: PaymentChannel!) {\n  createOrder(productId: $productId, channel: $channel) {\n    ...OrderFields\n  }\n}": typeof types.CreateOrderDocument,
    "query CreditBalance {\n  me {\n    id\n    creditBalance {\n      available\n      reserved\n    }\n  }\n}": typeof types.CreditBalanceDocument,
    "query Ledger($first: Int, $after: String) {\n  me {\n    id\n    ledger(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          delta\n          balanceAfter\n          reason\n          referenceId\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": typeof types.LedgerDocument,
    "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}": typeof types.OrderDocument,
    "fragment OrderFields on Order {\n  id\n  amountFen\n  credits\n  channel\n  status\n  paidAt\n  createdAt\n  product {\n    id\n    name\n  }\n  payment {\n    payUrl\n    qrCodeUrl\n    expiresAt\n  }\n}": typeof types.OrderFieldsFragmentDoc,
    "query Orders($first: Int) {\n  me {\n    id\n    orders(first: $first) {\n      edges {\n        node {\n          ...OrderFields\n        }\n      }\n    }\n  }\n}": typeof types.OrdersDocument,
    "query Products {\n  products {\n    id\n    name\n    credits\n    priceFen\n  }\n}": typeof types.ProductsDocument,
    "query ChatModels {\n  chatModels {\n    id\n    name\n    description\n    maxInputTokens\n    maxOutputTokens\n  }\n}": typeof types.ChatModelsDocument,
    "query ConversationMessages($id: ID!, $first: Int, $after: String) {\n  conversation(id: $id) {\n    ...ConversationSummary\n    messages(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": typeof types.ConversationMessagesDocument,
    "fragment ConversationSummary on Conversation {\n  id\n  title\n  updatedAt\n  model {\n    id\n    name\n  }\n  parameters {\n    temperature\n    topP\n    maxTokens\n    enableSearch\n  }\n  systemPrompt\n}": typeof types.ConversationSummaryFragmentDoc,
    "query Conversations($first: Int, $after: String) {\n  conversations(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConversationSummary\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.ConversationsDocument,
    "mutation CreateConversation($input: CreateConversationInput!) {\n  createConversation(input: $input) {\n    ...ConversationSummary\n  }\n}": typeof types.CreateConversationDocument,
    "mutation DeleteConversation($id: ID!) {\n  deleteConversation(id: $id)\n}": typeof types.DeleteConversationDocument,
    "fragment MessageFields on Message {\n  id\n  role\n  content\n  status\n  error\n  errorCode\n  finishReason\n  creditsCharged\n  usage {\n    inputTokens\n    outputTokens\n    totalTokens\n  }\n  createdAt\n}": typeof types.MessageFieldsFragmentDoc,
    "subscription MessageStream($messageId: ID!, $afterSeq: Int) {\n  messageStream(messageId: $messageId, afterSeq: $afterSeq) {\n    messageId\n    seq\n    delta\n    done\n    message {\n      ...MessageFields\n    }\n  }\n}": typeof types.MessageStreamDocument,
    "mutation RegenerateMessage($messageId: ID!) {\n  regenerateMessage(messageId: $messageId) {\n    ...MessageFields\n  }\n}": typeof types.RegenerateMessageDocument,
    "mutation RenameConversation($id: ID!, $title: String!) {\n  updateConversation(id: $id, input: {title: $title}) {\n    id\n    title\n    updatedAt\n  }\n}": typeof types.RenameConversationDocument,
    "mutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    userMessage {\n      ...MessageFields\n    }\n    assistantMessage {\n      ...MessageFields\n    }\n  }\n}": typeof types.SendMessageDocument,
    "mutation StopGeneration($messageId: ID!) {\n  stopGeneration(messageId: $messageId) {\n    ...MessageFields\n  }\n}": typeof types.StopGenerationDocument,
    "mutation CancelImageJob($id: ID!) {\n  cancelImageJob(id: $id) {\n    ...ImageJobFields\n  }\n}": typeof types.CancelImageJobDocument,
    "mutation CreateImageJob($input: CreateImageJobInput!) {\n  createImageJob(input: $input) {\n    ...ImageJobFields\n  }\n}": typeof types.CreateImageJobDocument,
    "mutation CreateUploadUrl($contentType: String!, $byteSize: Int!) {\n  createUploadUrl(contentType: $contentType, byteSize: $byteSize) {\n    url\n    method\n    headers\n    key\n    expiresAt\n  }\n}": typeof types.CreateUploadUrlDocument,
    "mutation DeleteImage($id: ID!) {\n  deleteImage(id: $id)\n}": typeof types.DeleteImageDocument,
    "query ImageJob($id: ID!) {\n  imageJob(id: $id) {\n    ...ImageJobFields\n  }\n}": typeof types.ImageJobDocument,
    "fragment ImageJobFields on ImageJob {\n  id\n  prompt\n  negativePrompt\n  model\n  size\n  count\n  status\n  progress\n  error\n  errorCode\n  errorService\n  creditsCharged\n  createdAt\n  finishedAt\n  images {\n    id\n    url\n    width\n    height\n    contentType\n  }\n}": typeof types.ImageJobFieldsFragmentDoc,
    "subscription ImageJobUpdated($jobId: ID!) {\n  imageJobUpdated(jobId: $jobId) {\n    ...ImageJobFields\n  }\n}": typeof types.ImageJobUpdatedDocument,
    "query ImageJobs($first: Int, $after: String) {\n  imageJobs(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ImageJobFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.ImageJobsDocument,
    "query ImageModels {\n  imageModels {\n    id\n    name\n    sizes\n    maxCount\n    acceptsReferenceImage\n  }\n}": typeof types.ImageModelsDocument,
    "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": typeof types.LoginDocument,
    "mutation LoginWithSmsCode($phone: String!, $code: String!) {\n  loginWithSmsCode(phone: $phone, code: $code) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": typeof types.LoginWithSmsCodeDocument,
    "mutation Logout {\n  logout\n}": typeof types.LogoutDocument,
    "query MySessions {\n  mySessions {\n    id\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    current\n  }\n}": typeof types.MySessionsDocument,
    "mutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresIn\n  }\n}": typeof types.RefreshSessionDocument,
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": typeof types.RegisterDocument,
    "mutation RequestSmsCode($phone: String!, $purpose: SmsPurpose!) {\n  requestSmsCode(phone: $phone, purpose: $purpose) {\n    cooldownSeconds\n  }\n}": typeof types.RequestSmsCodeDocument,
    "mutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}": typeof types.RevokeSessionDocument,
    "query Viewer {\n  me {\n    ...ViewerFields\n  }\n}": typeof types.ViewerDocument,
    "fragment ViewerFields on User {\n  id\n  displayName\n  email\n  phone\n  roles\n}": typeof types.ViewerFieldsFragmentDoc,
};
const documents: Documents = {
    "mutation CancelOrder($id: ID!) {\n  cancelOrder(id: $id) {\n    ...OrderFields\n  }\n}": types.CancelOrderDocument,
    "mutation CreateOrder($productId: ID!, $channel: PaymentChannel!) {\n  createOrder(productId: $productId, channel: $channel) {\n    ...OrderFields\n  }\n}": types.CreateOrderDocument,
    "query CreditBalance {\n  me {\n    id\n    creditBalance {\n      available\n      reserved\n    }\n  }\n}": types.CreditBalanceDocument,
    "query Ledger($first: Int, $after: String) {\n  me {\n    id\n    ledger(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          delta\n          balanceAfter\n          reason\n          referenceId\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": types.LedgerDocument,
    "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}": types.OrderDocument,
    "fragment OrderFields on Order {\n  id\n  amountFen\n  credits\n  channel\n  status\n  paidAt\n  createdAt\n  product {\n    id\n    name\n  }\n  payment {\n    payUrl\n    qrCodeUrl\n    expiresAt\n  }\n}": types.OrderFieldsFragmentDoc,
    "query Orders($first: Int) {\n  me {\n    id\n    orders(first: $first) {\n      edges {\n        node {\n          ...OrderFields\n        }\n      }\n    }\n  }\n}": types.OrdersDocument,
    "query Products {\n  products {\n    id\n    name\n    credits\n    priceFen\n  }\n}": types.ProductsDocument,
    "query ChatModels {\n  chatModels {\n    id\n    name\n    description\n    maxInputTokens\n    maxOutputTokens\n  }\n}": types.ChatModelsDocument,
    "query ConversationMessages($id: ID!, $first: Int, $after: String) {\n  conversation(id: $id) {\n    ...ConversationSummary\n    messages(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}": types.ConversationMessagesDocument,
    "fragment ConversationSummary on Conversation {\n  id\n  title\n  updatedAt\n  model {\n    id\n    name\n  }\n  parameters {\n    temperature\n    topP\n    maxTokens\n    enableSearch\n  }\n  systemPrompt\n}": types.ConversationSummaryFragmentDoc,
    "query Conversations($first: Int, $after: String) {\n  conversations(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConversationSummary\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.ConversationsDocument,
    "mutation CreateConversation($input: CreateConversationInput!) {\n  createConversation(input: $input) {\n    ...ConversationSummary\n  }\n}": types.CreateConversationDocument,
    "mutation DeleteConversation($id: ID!) {\n  deleteConversation(id: $id)\n}": types.DeleteConversationDocument,
    "fragment MessageFields on Message {\n  id\n  role\n  content\n  status\n  error\n  errorCode\n  finishReason\n  creditsCharged\n  usage {\n    inputTokens\n    outputTokens\n    totalTokens\n  }\n  createdAt\n}": types.MessageFieldsFragmentDoc,
    "subscription MessageStream($messageId: ID!, $afterSeq: Int) {\n  messageStream(messageId: $messageId, afterSeq: $afterSeq) {\n    messageId\n    seq\n    delta\n    done\n    message {\n      ...MessageFields\n    }\n  }\n}": types.MessageStreamDocument,
    "mutation RegenerateMessage($messageId: ID!) {\n  regenerateMessage(messageId: $messageId) {\n    ...MessageFields\n  }\n}": types.RegenerateMessageDocument,
    "mutation RenameConversation($id: ID!, $title: String!) {\n  updateConversation(id: $id, input: {title: $title}) {\n    id\n    title\n    updatedAt\n  }\n}": types.RenameConversationDocument,
    "mutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    userMessage {\n      ...MessageFields\n    }\n    assistantMessage {\n      ...MessageFields\n    }\n  }\n}": types.SendMessageDocument,
    "mutation StopGeneration($messageId: ID!) {\n  stopGeneration(messageId: $messageId) {\n    ...MessageFields\n  }\n}": types.StopGenerationDocument,
    "mutation CancelImageJob($id: ID!) {\n  cancelImageJob(id: $id) {\n    ...ImageJobFields\n  }\n}": types.CancelImageJobDocument,
    "mutation CreateImageJob($input: CreateImageJobInput!) {\n  createImageJob(input: $input) {\n    ...ImageJobFields\n  }\n}": types.CreateImageJobDocument,
    "mutation CreateUploadUrl($contentType: String!, $byteSize: Int!) {\n  createUploadUrl(contentType: $contentType, byteSize: $byteSize) {\n    url\n    method\n    headers\n    key\n    expiresAt\n  }\n}": types.CreateUploadUrlDocument,
    "mutation DeleteImage($id: ID!) {\n  deleteImage(id: $id)\n}": types.DeleteImageDocument,
    "query ImageJob($id: ID!) {\n  imageJob(id: $id) {\n    ...ImageJobFields\n  }\n}": types.ImageJobDocument,
    "fragment ImageJobFields on ImageJob {\n  id\n  prompt\n  negativePrompt\n  model\n  size\n  count\n  status\n  progress\n  error\n  errorCode\n  errorService\n  creditsCharged\n  createdAt\n  finishedAt\n  images {\n    id\n    url\n    width\n    height\n    contentType\n  }\n}": types.ImageJobFieldsFragmentDoc,
    "subscription ImageJobUpdated($jobId: ID!) {\n  imageJobUpdated(jobId: $jobId) {\n    ...ImageJobFields\n  }\n}": types.ImageJobUpdatedDocument,
    "query ImageJobs($first: Int, $after: String) {\n  imageJobs(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ImageJobFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.ImageJobsDocument,
    "query ImageModels {\n  imageModels {\n    id\n    name\n    sizes\n    maxCount\n    acceptsReferenceImage\n  }\n}": types.ImageModelsDocument,
    "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": types.LoginDocument,
    "mutation LoginWithSmsCode($phone: String!, $code: String!) {\n  loginWithSmsCode(phone: $phone, code: $code) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": types.LoginWithSmsCodeDocument,
    "mutation Logout {\n  logout\n}": types.LogoutDocument,
    "query MySessions {\n  mySessions {\n    id\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    current\n  }\n}": types.MySessionsDocument,
    "mutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresIn\n  }\n}": types.RefreshSessionDocument,
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}": types.RegisterDocument,
    "mutation RequestSmsCode($phone: String!, $purpose: SmsPurpose!) {\n  requestSmsCode(phone: $phone, purpose: $purpose) {\n    cooldownSeconds\n  }\n}": types.RequestSmsCodeDocument,
    "mutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}": types.RevokeSessionDocument,
    "query Viewer {\n  me {\n    ...ViewerFields\n  }\n}": types.ViewerDocument,
    "fragment ViewerFields on User {\n  id\n  displayName\n  email\n  phone\n  roles\n}": types.ViewerFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CancelOrder($id: ID!) {\n  cancelOrder(id: $id) {\n    ...OrderFields\n  }\n}"): (typeof documents)["mutation CancelOrder($id: ID!) {\n  cancelOrder(id: $id) {\n    ...OrderFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateOrder($productId: ID!, $channel: PaymentChannel!) {\n  createOrder(productId: $productId, channel: $channel) {\n    ...OrderFields\n  }\n}"): (typeof documents)["mutation CreateOrder($productId: ID!, $channel: PaymentChannel!) {\n  createOrder(productId: $productId, channel: $channel) {\n    ...OrderFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CreditBalance {\n  me {\n    id\n    creditBalance {\n      available\n      reserved\n    }\n  }\n}"): (typeof documents)["query CreditBalance {\n  me {\n    id\n    creditBalance {\n      available\n      reserved\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Ledger($first: Int, $after: String) {\n  me {\n    id\n    ledger(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          delta\n          balanceAfter\n          reason\n          referenceId\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"): (typeof documents)["query Ledger($first: Int, $after: String) {\n  me {\n    id\n    ledger(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          delta\n          balanceAfter\n          reason\n          referenceId\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}"): (typeof documents)["query Order($id: ID!) {\n  order(id: $id) {\n    ...OrderFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment OrderFields on Order {\n  id\n  amountFen\n  credits\n  channel\n  status\n  paidAt\n  createdAt\n  product {\n    id\n    name\n  }\n  payment {\n    payUrl\n    qrCodeUrl\n    expiresAt\n  }\n}"): (typeof documents)["fragment OrderFields on Order {\n  id\n  amountFen\n  credits\n  channel\n  status\n  paidAt\n  createdAt\n  product {\n    id\n    name\n  }\n  payment {\n    payUrl\n    qrCodeUrl\n    expiresAt\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Orders($first: Int) {\n  me {\n    id\n    orders(first: $first) {\n      edges {\n        node {\n          ...OrderFields\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query Orders($first: Int) {\n  me {\n    id\n    orders(first: $first) {\n      edges {\n        node {\n          ...OrderFields\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Products {\n  products {\n    id\n    name\n    credits\n    priceFen\n  }\n}"): (typeof documents)["query Products {\n  products {\n    id\n    name\n    credits\n    priceFen\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ChatModels {\n  chatModels {\n    id\n    name\n    description\n    maxInputTokens\n    maxOutputTokens\n  }\n}"): (typeof documents)["query ChatModels {\n  chatModels {\n    id\n    name\n    description\n    maxInputTokens\n    maxOutputTokens\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConversationMessages($id: ID!, $first: Int, $after: String) {\n  conversation(id: $id) {\n    ...ConversationSummary\n    messages(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"): (typeof documents)["query ConversationMessages($id: ID!, $first: Int, $after: String) {\n  conversation(id: $id) {\n    ...ConversationSummary\n    messages(first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ConversationSummary on Conversation {\n  id\n  title\n  updatedAt\n  model {\n    id\n    name\n  }\n  parameters {\n    temperature\n    topP\n    maxTokens\n    enableSearch\n  }\n  systemPrompt\n}"): (typeof documents)["fragment ConversationSummary on Conversation {\n  id\n  title\n  updatedAt\n  model {\n    id\n    name\n  }\n  parameters {\n    temperature\n    topP\n    maxTokens\n    enableSearch\n  }\n  systemPrompt\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Conversations($first: Int, $after: String) {\n  conversations(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConversationSummary\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query Conversations($first: Int, $after: String) {\n  conversations(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConversationSummary\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateConversation($input: CreateConversationInput!) {\n  createConversation(input: $input) {\n    ...ConversationSummary\n  }\n}"): (typeof documents)["mutation CreateConversation($input: CreateConversationInput!) {\n  createConversation(input: $input) {\n    ...ConversationSummary\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteConversation($id: ID!) {\n  deleteConversation(id: $id)\n}"): (typeof documents)["mutation DeleteConversation($id: ID!) {\n  deleteConversation(id: $id)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment MessageFields on Message {\n  id\n  role\n  content\n  status\n  error\n  errorCode\n  finishReason\n  creditsCharged\n  usage {\n    inputTokens\n    outputTokens\n    totalTokens\n  }\n  createdAt\n}"): (typeof documents)["fragment MessageFields on Message {\n  id\n  role\n  content\n  status\n  error\n  errorCode\n  finishReason\n  creditsCharged\n  usage {\n    inputTokens\n    outputTokens\n    totalTokens\n  }\n  createdAt\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription MessageStream($messageId: ID!, $afterSeq: Int) {\n  messageStream(messageId: $messageId, afterSeq: $afterSeq) {\n    messageId\n    seq\n    delta\n    done\n    message {\n      ...MessageFields\n    }\n  }\n}"): (typeof documents)["subscription MessageStream($messageId: ID!, $afterSeq: Int) {\n  messageStream(messageId: $messageId, afterSeq: $afterSeq) {\n    messageId\n    seq\n    delta\n    done\n    message {\n      ...MessageFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RegenerateMessage($messageId: ID!) {\n  regenerateMessage(messageId: $messageId) {\n    ...MessageFields\n  }\n}"): (typeof documents)["mutation RegenerateMessage($messageId: ID!) {\n  regenerateMessage(messageId: $messageId) {\n    ...MessageFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RenameConversation($id: ID!, $title: String!) {\n  updateConversation(id: $id, input: {title: $title}) {\n    id\n    title\n    updatedAt\n  }\n}"): (typeof documents)["mutation RenameConversation($id: ID!, $title: String!) {\n  updateConversation(id: $id, input: {title: $title}) {\n    id\n    title\n    updatedAt\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    userMessage {\n      ...MessageFields\n    }\n    assistantMessage {\n      ...MessageFields\n    }\n  }\n}"): (typeof documents)["mutation SendMessage($input: SendMessageInput!) {\n  sendMessage(input: $input) {\n    userMessage {\n      ...MessageFields\n    }\n    assistantMessage {\n      ...MessageFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation StopGeneration($messageId: ID!) {\n  stopGeneration(messageId: $messageId) {\n    ...MessageFields\n  }\n}"): (typeof documents)["mutation StopGeneration($messageId: ID!) {\n  stopGeneration(messageId: $messageId) {\n    ...MessageFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CancelImageJob($id: ID!) {\n  cancelImageJob(id: $id) {\n    ...ImageJobFields\n  }\n}"): (typeof documents)["mutation CancelImageJob($id: ID!) {\n  cancelImageJob(id: $id) {\n    ...ImageJobFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateImageJob($input: CreateImageJobInput!) {\n  createImageJob(input: $input) {\n    ...ImageJobFields\n  }\n}"): (typeof documents)["mutation CreateImageJob($input: CreateImageJobInput!) {\n  createImageJob(input: $input) {\n    ...ImageJobFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateUploadUrl($contentType: String!, $byteSize: Int!) {\n  createUploadUrl(contentType: $contentType, byteSize: $byteSize) {\n    url\n    method\n    headers\n    key\n    expiresAt\n  }\n}"): (typeof documents)["mutation CreateUploadUrl($contentType: String!, $byteSize: Int!) {\n  createUploadUrl(contentType: $contentType, byteSize: $byteSize) {\n    url\n    method\n    headers\n    key\n    expiresAt\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation DeleteImage($id: ID!) {\n  deleteImage(id: $id)\n}"): (typeof documents)["mutation DeleteImage($id: ID!) {\n  deleteImage(id: $id)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ImageJob($id: ID!) {\n  imageJob(id: $id) {\n    ...ImageJobFields\n  }\n}"): (typeof documents)["query ImageJob($id: ID!) {\n  imageJob(id: $id) {\n    ...ImageJobFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ImageJobFields on ImageJob {\n  id\n  prompt\n  negativePrompt\n  model\n  size\n  count\n  status\n  progress\n  error\n  errorCode\n  errorService\n  creditsCharged\n  createdAt\n  finishedAt\n  images {\n    id\n    url\n    width\n    height\n    contentType\n  }\n}"): (typeof documents)["fragment ImageJobFields on ImageJob {\n  id\n  prompt\n  negativePrompt\n  model\n  size\n  count\n  status\n  progress\n  error\n  errorCode\n  errorService\n  creditsCharged\n  createdAt\n  finishedAt\n  images {\n    id\n    url\n    width\n    height\n    contentType\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription ImageJobUpdated($jobId: ID!) {\n  imageJobUpdated(jobId: $jobId) {\n    ...ImageJobFields\n  }\n}"): (typeof documents)["subscription ImageJobUpdated($jobId: ID!) {\n  imageJobUpdated(jobId: $jobId) {\n    ...ImageJobFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ImageJobs($first: Int, $after: String) {\n  imageJobs(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ImageJobFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query ImageJobs($first: Int, $after: String) {\n  imageJobs(first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ImageJobFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ImageModels {\n  imageModels {\n    id\n    name\n    sizes\n    maxCount\n    acceptsReferenceImage\n  }\n}"): (typeof documents)["query ImageModels {\n  imageModels {\n    id\n    name\n    sizes\n    maxCount\n    acceptsReferenceImage\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"): (typeof documents)["mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation LoginWithSmsCode($phone: String!, $code: String!) {\n  loginWithSmsCode(phone: $phone, code: $code) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"): (typeof documents)["mutation LoginWithSmsCode($phone: String!, $code: String!) {\n  loginWithSmsCode(phone: $phone, code: $code) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Logout {\n  logout\n}"): (typeof documents)["mutation Logout {\n  logout\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MySessions {\n  mySessions {\n    id\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    current\n  }\n}"): (typeof documents)["query MySessions {\n  mySessions {\n    id\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    current\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresIn\n  }\n}"): (typeof documents)["mutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresIn\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"): (typeof documents)["mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    expiresIn\n    user {\n      ...ViewerFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RequestSmsCode($phone: String!, $purpose: SmsPurpose!) {\n  requestSmsCode(phone: $phone, purpose: $purpose) {\n    cooldownSeconds\n  }\n}"): (typeof documents)["mutation RequestSmsCode($phone: String!, $purpose: SmsPurpose!) {\n  requestSmsCode(phone: $phone, purpose: $purpose) {\n    cooldownSeconds\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}"): (typeof documents)["mutation RevokeSession($id: ID!) {\n  revokeSession(id: $id)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Viewer {\n  me {\n    ...ViewerFields\n  }\n}"): (typeof documents)["query Viewer {\n  me {\n    ...ViewerFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ViewerFields on User {\n  id\n  displayName\n  email\n  phone\n  roles\n}"): (typeof documents)["fragment ViewerFields on User {\n  id\n  displayName\n  email\n  phone\n  roles\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;