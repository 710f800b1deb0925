import { useEffect, useState } from 'react';
import { describeError, type UserFacingError } from '../client/index.ts';
import { useI18n } from '../i18n/index.tsx';
import { navigate } from './router.ts';

/** The sentence a person reads for an error; never a code, a server's internals or a stack. */
export function useErrorText() {
  const { t } = useI18n();
  return (error: UserFacingError, secondsLeft?: number): string => {
    switch (error.kind) {
      case 'insufficientCredits':
        return t.errors.insufficientCredits;
      case 'rateLimited':
        return secondsLeft === 0 ? t.errors.rateLimitedNow : t.errors.rateLimited(secondsLeft ?? error.retryAfterSeconds);
      case 'contentRejected':
        return t.errors.contentRejected;
      case 'upstreamUnavailable':
        return t.errors.upstreamUnavailable(t.errors.services[error.service]);
      case 'unauthenticated':
        return t.errors.unauthenticated;
      case 'forbidden':
        return t.errors.forbidden;
      case 'notFound':
        return t.errors.notFound;
      case 'conflict':
        return t.errors.conflict;
      case 'notImplemented':
        return t.errors.notImplemented;
      case 'badInput':
        return error.message;
      case 'network':
        return t.errors.network;
      case 'unknown':
        return t.errors.unknown;
    }
  };
}

/** An error as a person reads it, with what they can do about it (buy credits, wait for the countdown). */
export function ErrorNotice({
  error,
  onDismiss,
  advice,
  wording,
}: {
  error: unknown;
  onDismiss?: () => void;
  /** A further sentence for some errors (what to do about them here). */
  advice?: (error: UserFacingError) => string | undefined;
  /** What an error means on this screen, instead of the general sentence (a refused sign-in is a wrong password). */
  wording?: Partial<Record<UserFacingError['kind'], string>>;
}) {
  const { t } = useI18n();
  const text = useErrorText();
  const described = describeError(error);
  const [secondsLeft, setSecondsLeft] = useState(described.kind === 'rateLimited' ? described.retryAfterSeconds : undefined);
  useEffect(() => {
    if (described.kind !== 'rateLimited') return;
    setSecondsLeft(described.retryAfterSeconds);
    const timer = setInterval(() => setSecondsLeft((s) => (s && s > 0 ? s - 1 : 0)), 1000);
    return () => clearInterval(timer);
  }, [error, described.kind, described.kind === 'rateLimited' ? described.retryAfterSeconds : 0]);

  return (
    <div className="notice notice-error" role="alert" data-error-kind={described.kind}>
      <p>{wording?.[described.kind] ?? text(described, secondsLeft)}</p>
      {advice?.(described) && <p>{advice(described)}</p>}
      <div className="notice-actions">
        {described.kind === 'insufficientCredits' && (
          <button type="button" className="primary" onClick={() => navigate({ screen: 'credits' })}>
            {t.errors.buyCredits}
          </button>
        )}
        {onDismiss && (
          <button type="button" onClick={onDismiss}>
            {t.errors.dismiss}
          </button>
        )}
      </div>
    </div>
  );
}
