// Smoke test of a running platform through its gateway — what CI runs against `docker compose up` (and what anyone
// can run against any deployment): the catalog answers, a user signs up, a chat answer streams through DashScope (the
// simulator in compose) to COMPLETED and is charged in credits. Exits 0 on success, 1 with the reason otherwise.
//
//   node docker/smoke.mjs [gateway origin]     (default http://localhost:4000, or GATEWAY_URL)
//
// Plain Node (≥ 20, fetch), no dependencies, so it runs on a CI runner without `npm ci`.
const gateway = (process.argv[2] ?? process.env.GATEWAY_URL ?? 'http://localhost:4000').replace(/\/+$/, '');
const deadline = Date.now() + Number(process.env.SMOKE_TIMEOUT_MS ?? 60_000);

async function graphql(query, variables = {}, token) {
  const response = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || body.errors) throw new Error(`${query.trim().split(/\s+/).slice(0, 3).join(' ')}…: HTTP ${response.status} ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

function step(message) {
  console.log(`smoke: ${message}`);
}

async function main() {
  const ready = await fetch(`${gateway}/readyz`);
  if (!ready.ok) throw new Error(`${gateway}/readyz answered ${ready.status}: ${await ready.text()}`);
  step(`${gateway} is ready`);

  const { chatModels, products } = await graphql('{ chatModels { id } products { id } }');
  if (chatModels.length === 0 || products.length === 0) throw new Error('the catalog is empty: was the database seeded?');
  step(`${chatModels.length} chat models, ${products.length} products`);

  const email = `smoke-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const { register } = await graphql(
    'mutation Register($input: RegisterInput!) { register(input: $input) { accessToken } }',
    { input: { email, password: 'fireflies glow at dusk 2026', displayName: 'CI check' } },
  );
  const token = register.accessToken;
  const { me } = await graphql('{ me { email creditBalance { available } } }', {}, token);
  if (me?.email !== email) throw new Error(`me answered ${JSON.stringify(me)}: the gateway does not accept the user subgraph's tokens`);
  step(`signed up ${email} with ${me.creditBalance.available} credits`);

  const { createConversation } = await graphql('mutation { createConversation(input: {}) { id } }', {}, token);
  const { sendMessage } = await graphql(
    'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { assistantMessage { id } } }',
    { input: { conversationId: createConversation.id, content: 'Why do fireflies glow?' } },
    token,
  );
  const messageId = sendMessage.assistantMessage.id;
  for (;;) {
    const { conversation } = await graphql(
      'query Answer($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node { id status content error creditsCharged } } } } }',
      { id: createConversation.id },
      token,
    );
    const answer = conversation.messages.edges.map((e) => e.node).find((m) => m.id === messageId);
    if (answer?.status === 'COMPLETED') {
      if (!answer.content || !(answer.creditsCharged > 0)) throw new Error(`the answer completed empty or free: ${JSON.stringify(answer)}`);
      step(`answer COMPLETED (${answer.content.length} characters, ${answer.creditsCharged} credits)`);
      break;
    }
    if (answer && answer.status !== 'STREAMING') throw new Error(`the answer ended ${answer.status}: ${answer.error}`);
    if (Date.now() > deadline) throw new Error(`the answer is still ${answer?.status ?? 'missing'}: is DashScope (or its simulator) reachable?`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  step('ok');
}

main().catch((error) => {
  console.error(`smoke: FAILED — ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
