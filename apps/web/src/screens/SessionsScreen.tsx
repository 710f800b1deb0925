import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { MySessionsDocument, RevokeSessionDocument } from '../generated/graphql/graphql.ts';
import { ErrorNotice } from '../app/ErrorNotice.tsx';
import { useI18n } from '../i18n/index.tsx';

/** A short, readable name for a User-Agent string ("Chrome on Linux"). */
function describeUserAgent(userAgent: string | null | undefined): string | undefined {
  if (!userAgent) return undefined;
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : undefined;
  const os = /Windows/.test(userAgent) ? 'Windows' : /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : undefined;
  if (browser && os) return `${browser} · ${os}`;
  return browser ?? os ?? userAgent.slice(0, 60);
}

export function SessionsScreen() {
  const { t, formatDate } = useI18n();
  const sessions = useQuery(MySessionsDocument, { fetchPolicy: 'cache-and-network' });
  const [revoke, revokeState] = useMutation(RevokeSessionDocument, { refetchQueries: [MySessionsDocument] });
  const [error, setError] = useState<unknown>();

  return (
    <div className="page">
      <h1>{t.sessions.title}</h1>
      <p className="muted">{t.sessions.intro}</p>
      {(error ?? sessions.error) !== undefined && <ErrorNotice error={error ?? sessions.error} onDismiss={() => setError(undefined)} />}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t.sessions.device}</th>
            <th scope="col">{t.sessions.ip}</th>
            <th scope="col">{t.sessions.created}</th>
            <th scope="col">{t.sessions.lastUsed}</th>
            <th scope="col">
              <span className="visually-hidden">{t.sessions.revoke}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.data?.mySessions.map((session) => (
            <tr key={session.id} data-testid="session-row">
              <td>
                {describeUserAgent(session.userAgent) ?? t.sessions.unknownDevice}
                {session.current && <span className="badge">{t.sessions.current}</span>}
              </td>
              <td>{session.ip ?? '—'}</td>
              <td>{formatDate(session.createdAt)}</td>
              <td>{formatDate(session.lastUsedAt)}</td>
              <td>
                {!session.current && (
                  <button
                    type="button"
                    disabled={revokeState.loading}
                    onClick={() => revoke({ variables: { id: session.id } }).catch(setError)}
                  >
                    {t.sessions.revoke}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
