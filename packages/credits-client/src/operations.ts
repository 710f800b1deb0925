// The GraphQL documents the client sends. They use only the internal (@inaccessible) billing fields, so they are
// valid against the billing subgraph's own schema and never against the public supergraph API.

const RESERVATION_FIELDS = 'id userId amount settledAmount status referenceId expiresAt createdAt';

export const RESERVE = `mutation ReserveCredits($input: ReserveCreditsInput!) {
  reserveCredits(input: $input) { ${RESERVATION_FIELDS} }
}`;

export const RESERVE_CHAT = `mutation ReserveChatCredits($input: ReserveChatCreditsInput!) {
  reserveChatCredits(input: $input) { ${RESERVATION_FIELDS} }
}`;

export const RESERVE_IMAGE = `mutation ReserveImageCredits($input: ReserveImageCreditsInput!) {
  reserveImageCredits(input: $input) { ${RESERVATION_FIELDS} }
}`;

export const SETTLE = `mutation SettleReservation($id: ID!, $actualAmount: Int!, $reason: LedgerReason!, $referenceId: String) {
  settleReservation(id: $id, actualAmount: $actualAmount, reason: $reason, referenceId: $referenceId) { ${RESERVATION_FIELDS} }
}`;

export const RELEASE = `mutation ReleaseReservation($id: ID!) {
  releaseReservation(id: $id) { ${RESERVATION_FIELDS} }
}`;

export const GRANT_SIGNUP_CREDITS = `mutation GrantSignupCredits($userId: ID!) {
  grantSignupCredits(userId: $userId) { available reserved }
}`;

export const CHAT_COST = `query ChatCost($modelId: ID!, $inputTokens: Int!, $outputTokens: Int!, $reservationId: ID) {
  chatCost(modelId: $modelId, inputTokens: $inputTokens, outputTokens: $outputTokens, reservationId: $reservationId)
}`;

export const IMAGE_COST = `query ImageCost($modelId: ID!, $size: String!, $count: Int!, $reservationId: ID) {
  imageCost(modelId: $modelId, size: $size, count: $count, reservationId: $reservationId)
}`;

export const SET_CHAT_PRICE = `mutation SetChatPrice($modelId: ID!, $inputPer1kTokens: Int!, $outputPer1kTokens: Int!) {
  setChatPrice(modelId: $modelId, inputPer1kTokens: $inputPer1kTokens, outputPer1kTokens: $outputPer1kTokens)
}`;

export const SET_IMAGE_PRICE = `mutation SetImagePrice($modelId: ID!, $perImage: Int!) {
  setImagePrice(modelId: $modelId, perImage: $perImage)
}`;
