import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import {
  ChatModelsDocument,
  ConversationMessagesDocument,
  ConversationsDocument,
  CreateConversationDocument,
  CreditBalanceDocument,
  DeleteConversationDocument,
  MessageFieldsFragmentDoc,
  RegenerateMessageDocument,
  RenameConversationDocument,
  SendMessageDocument,
  StopGenerationDocument,
  type ConversationSummaryFragment,
  type MessageFieldsFragment,
} from '../generated/graphql/graphql.ts';
import { describeFailedMessage, followMessageStream } from '../client/index.ts';
import { LabelledControl } from '../app/controls.tsx';
import { ErrorNotice, useErrorText } from '../app/ErrorNotice.tsx';
import { PencilIcon, TrashIcon } from '../app/icons.tsx';
import { hrefOf, navigate } from '../app/router.ts';
import { useI18n } from '../i18n/index.tsx';

export function ChatScreen({ conversationId }: { conversationId?: string }) {
  const { t } = useI18n();
  const conversations = useQuery(ConversationsDocument, { variables: { first: 50 } });
  const [creating, setCreating] = useState(false);
  const list = conversations.data?.conversations.edges.map((e) => e.node) ?? [];

  return (
    <div className="chat">
      <h1 className="visually-hidden">{t.nav.chat}</h1>
      <aside className="sidebar" aria-labelledby="conversations-heading">
        <div className="sidebar-head">
          <h2 id="conversations-heading">{t.chat.conversations}</h2>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            + {t.chat.newConversation}
          </button>
        </div>
        {conversations.error && <ErrorNotice error={conversations.error} />}
        {list.length === 0 && !conversations.loading && <p className="muted">{t.chat.empty}</p>}
        <ul className="conversation-list">
          {list.map((c) => (
            <ConversationItem key={c.id} conversation={c} active={c.id === conversationId} />
          ))}
        </ul>
      </aside>
      <section className="conversation" aria-label={t.chat.messages}>
        {conversationId ? <ConversationView key={conversationId} conversationId={conversationId} /> : <p className="muted center">{t.chat.pick}</p>}
      </section>
      {creating && <NewConversationDialog onClose={() => setCreating(false)} />}
    </div>
  );
}

function ConversationItem({ conversation, active }: { conversation: ConversationSummaryFragment; active: boolean }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const [rename, renameState] = useMutation(RenameConversationDocument);
  const [remove] = useMutation(DeleteConversationDocument, { refetchQueries: [ConversationsDocument] });
  const [error, setError] = useState<unknown>();
  const title = conversation.title || t.chat.untitled;

  const submitRename = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const next = String(new FormData(event.currentTarget).get('title') ?? '').trim();
    if (!next) return;
    try {
      await rename({ variables: { id: conversation.id, title: next } });
      setEditing(false);
    } catch (caught) {
      setError(caught);
    }
  };
  const onDelete = async () => {
    if (!window.confirm(t.chat.deleteConfirm(title))) return;
    try {
      await remove({ variables: { id: conversation.id } });
      if (active) navigate({ screen: 'chat' });
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <li className={active ? 'active' : undefined}>
      {editing ? (
        <form className="rename" onSubmit={(e) => void submitRename(e)} onKeyDown={(e) => e.key === 'Escape' && setEditing(false)}>
          <input name="title" defaultValue={conversation.title} aria-label={t.chat.renameLabel(title)} autoFocus maxLength={200} />
          <button type="submit" disabled={renameState.loading}>
            {t.save}
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            {t.cancel}
          </button>
        </form>
      ) : (
        <>
          <a href={hrefOf({ screen: 'chat', conversationId: conversation.id })} aria-current={active ? 'page' : undefined} className="conversation-link">
            <span className="title">{title}</span>
            <span className="muted small">{conversation.model.name}</span>
          </a>
          <div className="item-actions">
            <button type="button" className="icon" onClick={() => setEditing(true)} aria-label={`${t.chat.rename}: ${title}`} title={t.chat.rename}>
              <PencilIcon />
            </button>
            <button type="button" className="icon" onClick={() => void onDelete()} aria-label={`${t.delete}: ${title}`} title={t.delete}>
              <TrashIcon />
            </button>
          </div>
        </>
      )}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </li>
  );
}

function NewConversationDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const models = useQuery(ChatModelsDocument);
  const [create, createState] = useMutation(CreateConversationDocument, { refetchQueries: [ConversationsDocument] });
  const [modelId, setModelId] = useState<string>();
  const [error, setError] = useState<unknown>();
  const headingId = useId();
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const model = models.data?.chatModels.find((m) => m.id === modelId) ?? models.data?.chatModels[0];

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const number = (name: string) => (text(name) === '' ? null : Number(text(name)));
    try {
      const { data } = await create({
        variables: {
          input: {
            title: text('title') || null,
            modelId: model?.id ?? null,
            systemPrompt: text('systemPrompt') || null,
            parameters: { temperature: number('temperature'), topP: number('topP'), maxTokens: number('maxTokens'), enableSearch: form.get('enableSearch') === 'on' },
          },
        },
      });
      if (data) navigate({ screen: 'chat', conversationId: data.createConversation.id });
      onClose();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby={headingId} className="dialog">
      <form onSubmit={(e) => void submit(e)} className="stack">
        <h2 id={headingId}>{t.chat.newConversation}</h2>
        <LabelledControl label={t.chat.model}>
          {(id) => (
            <select id={id} name="modelId" value={model?.id ?? ''} onChange={(e) => setModelId(e.target.value)} required>
              {models.data?.chatModels.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          )}
        </LabelledControl>
        {model?.description && <p className="hint">{model.description}</p>}
        <LabelledControl label={t.chat.title}>{(id) => <input id={id} name="title" maxLength={200} />}</LabelledControl>
        <LabelledControl label={t.chat.systemPrompt}>{(id) => <textarea id={id} name="systemPrompt" rows={3} />}</LabelledControl>
        <fieldset className="grid3">
          <legend>{t.chat.parameters}</legend>
          <LabelledControl label={t.chat.temperature}>{(id) => <input id={id} name="temperature" type="number" min={0} max={2} step={0.1} placeholder="0.7" />}</LabelledControl>
          <LabelledControl label={t.chat.topP}>{(id) => <input id={id} name="topP" type="number" min={0} max={1} step={0.05} placeholder="0.8" />}</LabelledControl>
          <LabelledControl label={t.chat.maxTokens}>
            {(id) => <input id={id} name="maxTokens" type="number" min={1} max={model?.maxOutputTokens} step={1} placeholder={String(model?.maxOutputTokens ?? '')} />}
          </LabelledControl>
        </fieldset>
        <label className="checkbox">
          <input type="checkbox" name="enableSearch" /> {t.chat.enableSearch}
        </label>
        {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
        <div className="row end">
          <button type="button" onClick={() => dialog.current?.close()}>
            {t.cancel}
          </button>
          <button type="submit" className="primary" disabled={createState.loading || !model}>
            {t.chat.create}
          </button>
        </div>
      </form>
    </dialog>
  );
}

interface LiveAnswer {
  messageId: string;
  text: string;
}

function ConversationView({ conversationId }: { conversationId: string }) {
  const { t } = useI18n();
  const client = useApolloClient();
  const conversation = useQuery(ConversationMessagesDocument, { variables: { id: conversationId, first: 100 }, fetchPolicy: 'cache-and-network' });
  const [send, sendState] = useMutation(SendMessageDocument);
  const [stop, stopState] = useMutation(StopGenerationDocument);
  const [regenerate, regenerateState] = useMutation(RegenerateMessageDocument);
  const [live, setLive] = useState<LiveAnswer | null>(null);
  /** What the polite status region says about the answer: that one is coming, then the whole answer once. */
  const [announcement, setAnnouncement] = useState('');
  const [error, setError] = useState<unknown>();
  const composer = useRef<HTMLTextAreaElement>(null);
  const failedAnswerText = useFailedAnswerText();
  const [draft, setDraft] = useState('');
  const follower = useRef<{ stop(): void } | null>(null);
  const messages = conversation.data?.conversation?.messages.edges.map((e) => e.node) ?? [];
  const last = messages.at(-1);

  /** Shows an answer as it is written, token by token, and stores the final message when it is done. */
  const follow = useCallback(
    (messageId: string) => {
      follower.current?.stop();
      setLive({ messageId, text: '' });
      setAnnouncement(t.chat.answering);
      follower.current = followMessageStream(client, messageId, {
        onDelta: (delta) => setLive((current) => (current && current.messageId === messageId ? { messageId, text: current.text + delta } : current)),
        onDone: (message) => {
          setAnnouncement(message ? announce(message) : '');
          if (message) client.writeFragment({ fragment: MessageFieldsFragmentDoc, data: { ...message, __typename: 'Message' } as MessageFieldsFragment, fragmentName: 'MessageFields' });
          setLive(null);
          void client.refetchQueries({ include: [CreditBalanceDocument] });
        },
        onError: (caught) => {
          setLive(null);
          setAnnouncement('');
          setError(caught);
          void conversation.refetch();
        },
      });
    },
    [client, conversation, t],
  );
  /** The end of an answer in words: the answer itself, or why there is none. */
  function announce(message: MessageFieldsFragment): string {
    if (message.status === 'COMPLETED') return t.chat.answered(message.content);
    if (message.status === 'STOPPED') return `${t.chat.stopped}. ${t.chat.answered(message.content)}`;
    return failedAnswerText(message.errorCode);
  }

  // A conversation opened (or just created) puts the focus in its composer, ready to type.
  useEffect(() => {
    composer.current?.focus();
  }, []);

  // Opened while an answer is still being written (a reload, another tab): follow it from the start.
  const resumeId = last?.role === 'ASSISTANT' && last.status === 'STREAMING' ? last.id : undefined;
  useEffect(() => {
    if (resumeId && live?.messageId !== resumeId) follow(resumeId);
  }, [resumeId]);
  useEffect(() => () => follower.current?.stop(), []);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content || live) return;
    setError(undefined);
    try {
      const { data } = await send({ variables: { input: { conversationId, content } } });
      setDraft('');
      // Follow first: the list then shows the new answer as live the moment it arrives.
      if (data) follow(data.sendMessage.assistantMessage.id);
      await conversation.refetch();
    } catch (caught) {
      setError(caught);
    }
  };
  const onComposerKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  const onStop = async () => {
    if (!live) return;
    try {
      await stop({ variables: { messageId: live.messageId } });
    } catch (caught) {
      setError(caught);
    }
  };
  const onRegenerate = async () => {
    if (!last || last.role !== 'ASSISTANT') return;
    setError(undefined);
    try {
      const { data } = await regenerate({ variables: { messageId: last.id } });
      if (data) follow(data.regenerateMessage.id);
      await conversation.refetch();
    } catch (caught) {
      setError(caught);
    }
  };

  const summary = conversation.data?.conversation;
  return (
    <>
      <header className="conversation-head">
        <h2>{summary?.title || t.chat.untitled}</h2>
        {summary && (
          <p className="muted small">
            {summary.model.name}
            {summary.parameters.temperature != null && ` · ${t.chat.temperature} ${summary.parameters.temperature}`}
            {summary.parameters.topP != null && ` · ${t.chat.topP} ${summary.parameters.topP}`}
            {summary.parameters.maxTokens != null && ` · ${t.chat.maxTokens} ${summary.parameters.maxTokens}`}
          </p>
        )}
      </header>
      {conversation.error && !conversation.data && <ErrorNotice error={conversation.error} />}
      <MessageList messages={messages} live={live} />
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="answer-announcer">
        {announcement}
      </p>
      <div className="chat-actions">
        {live ? (
          <button type="button" onClick={() => void onStop()} disabled={stopState.loading} className="danger">
            ■ {t.chat.stop}
          </button>
        ) : (
          <button type="button" onClick={() => void onRegenerate()} disabled={!last || last.role !== 'ASSISTANT' || regenerateState.loading}>
            ↻ {t.chat.regenerate}
          </button>
        )}
      </div>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <form className="composer" onSubmit={(e) => void submit(e)}>
        <label htmlFor="composer-input" className="visually-hidden">
          {t.chat.messageLabel}
        </label>
        <textarea ref={composer} id="composer-input" value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onComposerKey} placeholder={t.chat.placeholder} rows={3} />
        <button type="submit" className="primary" disabled={!draft.trim() || !!live || sendState.loading}>
          {t.chat.send}
        </button>
      </form>
    </>
  );
}

function MessageList({ messages, live }: { messages: MessageFieldsFragment[]; live: LiveAnswer | null }) {
  const { t } = useI18n();
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  // Keep the newest text in view while it streams, unless the person scrolled up to read.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  });
  const onScroll = () => {
    const element = scroller.current;
    if (element) pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  };

  return (
    // A log (not read token by token: the status region below the list announces an answer once it is complete) that
    // scrolls, focusable so that the keyboard can scroll it too; its messages are a list inside it.
    <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="off" tabIndex={0} aria-label={t.chat.messages}>
      <ol className="message-items">
        {messages.map((message) => {
          const streaming = live?.messageId === message.id;
          const content = streaming ? live.text : message.content;
          return (
            <li
              key={message.id}
              className={`message ${message.role.toLowerCase()}`}
              data-testid={message.role === 'ASSISTANT' ? 'assistant-message' : 'user-message'}
              data-status={streaming ? 'STREAMING' : message.status}
              aria-busy={streaming || undefined}
            >
              <span className="who">{message.role === 'USER' ? t.chat.you : t.chat.assistant}</span>
              <div className="bubble">
                <p className="content">{content || (streaming || message.status === 'STREAMING' ? t.chat.thinking : '')}</p>
                <MessageFooter message={message} streaming={streaming} />
              </div>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function MessageFooter({ message, streaming }: { message: MessageFieldsFragment; streaming: boolean }) {
  const { t } = useI18n();
  const failedAnswerText = useFailedAnswerText();
  if (message.role !== 'ASSISTANT') return null;
  // The footer line is always there (empty while streaming) so the bubble does not jump when the answer ends.
  let text = '';
  if (!streaming && message.status === 'STOPPED') text = t.chat.stopped;
  if (!streaming && message.status === 'FAILED') text = failedAnswerText(message.errorCode);
  if (!streaming && message.usage) text += `${text ? ' · ' : ''}${t.chat.usage(message.usage.totalTokens, message.creditsCharged ?? null)}`;
  return <p className={`message-meta${message.status === 'FAILED' && !streaming ? ' error' : ''}`}>{text || '\u00a0'}</p>;
}

/** Why an answer FAILED, in words, from its errorCode (the footer and the announcement say the same). */
function useFailedAnswerText() {
  const { t } = useI18n();
  const errorText = useErrorText();
  return (errorCode: string | null | undefined): string => {
    const failure = describeFailedMessage(errorCode);
    if (failure === 'contentRejected') return errorText({ kind: 'contentRejected' });
    if (failure === 'modelUnavailable') return errorText({ kind: 'upstreamUnavailable', service: 'ai' });
    return failure === 'unknown' ? t.chat.failed : t.chat.failure[failure];
  };
}
