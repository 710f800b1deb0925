import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import {
  CancelImageJobDocument,
  CreateImageJobDocument,
  CreateUploadUrlDocument,
  CreditBalanceDocument,
  DeleteImageDocument,
  ImageJobDocument,
  ImageJobsDocument,
  ImageModelsDocument,
  type ImageJobFieldsFragment,
} from '../generated/graphql/graphql.ts';
import { describeFailedImageJob, errorCodeOf, followImageJob, TERMINAL_JOB_STATUSES } from '../client/index.ts';
import { ErrorNotice, useErrorText } from '../app/ErrorNotice.tsx';
import { TrashIcon } from '../app/icons.tsx';
import { useI18n } from '../i18n/index.tsx';
import { LabelledControl } from '../app/controls.tsx';

const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
const UPLOAD_MAX_BYTES = 20 * 1024 * 1024;

export function PaintScreen() {
  const { t } = useI18n();
  const jobs = useQuery(ImageJobsDocument, { variables: { first: 50 }, fetchPolicy: 'cache-and-network' });
  const list = jobs.data?.imageJobs.edges.map((e) => e.node) ?? [];
  const images = list.flatMap((job) => job.images.map((image) => ({ image, job })));

  return (
    <div className="page paint">
      <h1>{t.paint.title}</h1>
      <PaintForm />
      {jobs.error && <ErrorNotice error={jobs.error} />}
      <section aria-labelledby="jobs-heading">
        <h2 id="jobs-heading">{t.paint.jobs}</h2>
        <ul className="jobs">
          {list
            // A picture's job stays listed until its credits are settled; then the gallery is where it lives.
            .filter((job) => job.status !== 'SUCCEEDED' || job.creditsCharged === null)
            .map((job) => (
              <JobCard key={job.id} job={job} />
            ))}
        </ul>
      </section>
      <section aria-labelledby="gallery-heading">
        <h2 id="gallery-heading">{t.paint.gallery}</h2>
        {images.length === 0 && <p className="muted">{t.paint.emptyGallery}</p>}
        <ul className="gallery" data-testid="gallery">
          {images.map(({ image, job }) => (
            <GalleryItem key={image.id} id={image.id} url={image.url} width={image.width} height={image.height} prompt={job.prompt} />
          ))}
        </ul>
      </section>
    </div>
  );
}

function PaintForm() {
  const { t } = useI18n();
  const models = useQuery(ImageModelsDocument);
  const [create, createState] = useMutation(CreateImageJobDocument, { refetchQueries: [ImageJobsDocument, CreditBalanceDocument] });
  const [modelId, setModelId] = useState<string>();
  const [referenceKey, setReferenceKey] = useState<string>();
  const [error, setError] = useState<unknown>();
  const headingId = useId();
  // One key per submitted form: a double click or a retried request creates one job, charged once.
  const idempotencyKey = useRef(crypto.randomUUID());
  const model = models.data?.imageModels.find((m) => m.id === modelId) ?? models.data?.imageModels[0];

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    try {
      await create({
        variables: {
          input: {
            prompt: text('prompt'),
            negativePrompt: text('negativePrompt') || null,
            model: model?.id ?? null,
            size: text('size') || null,
            count: Number(text('count')) || 1,
            referenceImageKey: model?.acceptsReferenceImage ? (referenceKey ?? null) : null,
            idempotencyKey: idempotencyKey.current,
          },
        },
      });
      idempotencyKey.current = crypto.randomUUID();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form className="card stack" onSubmit={(e) => void submit(e)} aria-labelledby={headingId}>
      <h2 id={headingId} className="visually-hidden">
        {t.paint.generate}
      </h2>
      <LabelledControl label={t.paint.prompt}>{(id) => <textarea id={id} name="prompt" rows={3} required maxLength={2000} />}</LabelledControl>
      <LabelledControl label={t.paint.negativePrompt}>{(id) => <input id={id} name="negativePrompt" maxLength={500} />}</LabelledControl>
      <div className="grid3">
        <LabelledControl label={t.paint.model}>
          {(id) => (
            <select id={id} name="model" value={model?.id ?? ''} onChange={(e) => {
                setModelId(e.target.value);
                setReferenceKey(undefined);
              }}>
              {models.data?.imageModels.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </select>
          )}
        </LabelledControl>
        <LabelledControl label={t.paint.size}>
          {(id) => (
            <select id={id} name="size" key={model?.id}>
              {model?.sizes.map((size) => (
                <option key={size} value={size}>
                  {size.replace('*', ' × ')}
                </option>
              ))}
            </select>
          )}
        </LabelledControl>
        <LabelledControl label={t.paint.count}>
          {(id) => <input id={id} name="count" type="number" min={1} max={model?.maxCount ?? 4} defaultValue={1} required />}
        </LabelledControl>
      </div>
      {model?.acceptsReferenceImage ? <ReferenceUpload onChange={setReferenceKey} /> : <p className="hint">{t.paint.noReference}</p>}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
      <button type="submit" className="primary" disabled={createState.loading || !model}>
        {t.paint.generate}
      </button>
    </form>
  );
}

/** Uploads a reference image straight to object storage through a signed URL the image subgraph issues. */
function ReferenceUpload({ onChange }: { onChange: (key: string | undefined) => void }) {
  const { t } = useI18n();
  const [createUploadUrl] = useMutation(CreateUploadUrlDocument);
  const [state, setState] = useState<{ kind: 'idle' } | { kind: 'uploading' } | { kind: 'done'; name: string; key: string; preview: string } | { kind: 'invalid' }>({ kind: 'idle' });
  const [error, setError] = useState<unknown>();
  const hintId = useId();

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    setError(undefined);
    onChange(undefined);
    if (!file) return setState({ kind: 'idle' });
    if (!UPLOAD_TYPES.includes(file.type) || file.size > UPLOAD_MAX_BYTES) return setState({ kind: 'invalid' });
    setState({ kind: 'uploading' });
    try {
      const { data } = await createUploadUrl({ variables: { contentType: file.type, byteSize: file.size } });
      if (!data) throw new Error('no upload ticket');
      const ticket = data.createUploadUrl;
      // The upload goes to storage, not to our API: the signed URL and headers are all it needs.
      const response = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers as Record<string, string>, body: file });
      if (!response.ok) throw new Error(`upload answered ${response.status}`);
      setState({ kind: 'done', name: file.name, key: ticket.key, preview: URL.createObjectURL(file) });
      onChange(ticket.key);
    } catch (caught) {
      setState({ kind: 'idle' });
      setError(caught);
    }
  };

  return (
    <div className="field">
      <LabelledControl label={t.paint.reference}>
        {(id) => <input id={id} type="file" accept={UPLOAD_TYPES.join(',')} onChange={(e) => void onFile(e)} aria-describedby={hintId} />}
      </LabelledControl>
      <span id={hintId} className="hint" role="status">
        {state.kind === 'uploading' ? t.paint.uploading : state.kind === 'done' ? t.paint.uploaded(state.name) : state.kind === 'invalid' ? t.paint.badFile : t.paint.referenceHint}
      </span>
      {state.kind === 'done' && <img src={state.preview} alt="" className="reference-preview" data-upload-key={state.key} />}
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </div>
  );
}

/** Codes after which asking again about the job is pointless: it is gone, or not this person's. */
const JOB_GONE = new Set(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHENTICATED']);
const POLL_MS = 1_500;

function JobCard({ job }: { job: ImageJobFieldsFragment }) {
  const { t } = useI18n();
  const client = useApolloClient();
  const [cancel, cancelState] = useMutation(CancelImageJobDocument);
  const [error, setError] = useState<unknown>();
  // Without the live subscription (a server without it, a network that blocks WebSockets) the job is polled instead:
  // from the first failed attempt while the subscription is tried again ('reconnecting'), for good once it is given
  // up ('unavailable'); an event from a re-established subscription stops the polling.
  const [live, setLive] = useState<'following' | 'reconnecting' | 'unavailable'>('following');
  const polling = live !== 'following';
  const terminal = TERMINAL_JOB_STATUSES.has(job.status);
  // The worker marks a job finished, then settles its credits: only then is nothing about it left to change.
  const settled = terminal && job.creditsCharged !== null;
  const poll = useQuery(ImageJobDocument, { variables: { id: job.id }, skip: !polling || settled, pollInterval: POLL_MS, fetchPolicy: 'network-only' });

  // Live progress: imageJobUpdated writes each state into the cache, which re-renders this card and the gallery
  // (its last event comes after the settlement).
  useEffect(() => {
    if (settled) return;
    const follower = followImageJob(client, job.id, {
      onUpdate: () => setLive('following'),
      onReconnecting: () => setLive('reconnecting'),
      onError: (failure) => (JOB_GONE.has(errorCodeOf(failure) ?? '') ? setError(failure) : setLive('unavailable')),
    });
    return () => follower.stop();
  }, [client, job.id, settled]);

  // Once the job's hold on credits is settled (charged or released), the balance has changed.
  const followed = useRef(!settled);
  useEffect(() => {
    if (settled && followed.current) void client.refetchQueries({ include: [CreditBalanceDocument] });
  }, [settled, client]);

  const status = t.paint.status[job.status] ?? job.status;
  const shownError = error ?? poll.error;
  return (
    <li className="card job" data-testid="image-job" data-status={job.status}>
      <p className="prompt">{job.prompt}</p>
      <p className="muted small">
        {job.model} · {job.size.replace('*', ' × ')} · ×{job.count} · <span data-testid="job-status">{status}</span>
      </p>
      <div className="progress-row">
        <progress max={1} value={job.progress} aria-label={`${status} ${t.paint.progress(job.progress)}`} />
        <span className="small" data-testid="job-progress">
          {t.paint.progress(job.progress)}
        </span>
        {!terminal && (
          <button type="button" disabled={cancelState.loading} onClick={() => cancel({ variables: { id: job.id } }).catch(setError)}>
            {t.paint.cancelJob}
          </button>
        )}
      </div>
      {job.status === 'FAILED' && <JobFailure job={job} />}
      {shownError !== undefined && <ErrorNotice error={shownError} onDismiss={() => setError(undefined)} />}
    </li>
  );
}

/** Why a job failed, in words: its errorCode (and the service it names) read like any other error; the held credits were released. */
function JobFailure({ job }: { job: ImageJobFieldsFragment }) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const failure = describeFailedImageJob(job);
  const reason = failure ? errorText(failure) : t.paint.failed;
  return (
    <p className="error small" role="status" data-error-code={job.errorCode ?? undefined}>
      {reason} {t.paint.notCharged}
    </p>
  );
}

function GalleryItem({ id, url, width, height, prompt }: { id: string; url: string; width: number; height: number; prompt: string }) {
  const { t } = useI18n();
  const [remove, removeState] = useMutation(DeleteImageDocument, { refetchQueries: [ImageJobsDocument] });
  const [error, setError] = useState<unknown>();
  return (
    <li className="gallery-item">
      <img src={url} alt={t.paint.imageAlt(prompt)} width={width} height={height} loading="lazy" />
      <button type="button" className="icon overlay" disabled={removeState.loading} onClick={() => remove({ variables: { id } }).catch(setError)} aria-label={t.paint.deleteImage} title={t.paint.deleteImage}>
        <TrashIcon />
      </button>
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </li>
  );
}
