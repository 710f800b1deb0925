import { useEffect, useId, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { LoginDocument, LoginWithSmsCodeDocument, RegisterDocument, RequestSmsCodeDocument } from '../generated/graphql/graphql.ts';
import { LanguageSwitch } from '../app/App.tsx';
import { SegmentedChoice } from '../app/controls.tsx';
import { ErrorNotice } from '../app/ErrorNotice.tsx';
import { useFirefly } from '../app/firefly.tsx';
import { useI18n } from '../i18n/index.tsx';

type Mode = 'signIn' | 'signUp';
type Method = 'email' | 'phone';
const ANONYMOUS = { context: { anonymous: true } };

export function AuthScreen({ sessionEnded }: { sessionEnded: boolean }) {
  const { t } = useI18n();
  const [mode, setMode] = useState<Mode>('signIn');
  const [method, setMethod] = useState<Method>('email');
  const headingId = useId();
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="auth-top">
          <span className="brand">✦ {t.appName}</span>
          <LanguageSwitch />
        </div>
        <p className="tagline">{t.auth.tagline}</p>
        <h1 id={headingId}>{mode === 'signIn' ? t.auth.signIn : t.auth.signUp}</h1>
        {sessionEnded && (
          <p className="notice" role="status">
            {t.auth.sessionEnded}
          </p>
        )}
        <SegmentedChoice
          legend={t.auth.method}
          hideLegend
          name="method"
          options={[
            { value: 'email', label: t.auth.withEmail },
            { value: 'phone', label: t.auth.withPhone },
          ]}
          value={method}
          onChange={setMethod}
        />
        {method === 'email' ? <EmailForm mode={mode} labelledBy={headingId} /> : <PhoneForm mode={mode} labelledBy={headingId} />}
        <button type="button" className="link" onClick={() => setMode(mode === 'signIn' ? 'signUp' : 'signIn')}>
          {mode === 'signIn' ? t.auth.noAccount : t.auth.haveAccount}
        </button>
      </div>
    </main>
  );
}

function EmailForm({ mode, labelledBy }: { mode: Mode; labelledBy: string }) {
  const { t } = useI18n();
  const { session } = useFirefly();
  const [login, loginState] = useMutation(LoginDocument, ANONYMOUS);
  const [register, registerState] = useMutation(RegisterDocument, ANONYMOUS);
  const [error, setError] = useState<unknown>();
  const busy = loginState.loading || registerState.loading;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget);
    const value = (name: string) => String(form.get(name) ?? '').trim();
    try {
      if (mode === 'signUp') {
        const { data } = await register({ variables: { input: { email: value('email'), password: String(form.get('password')), displayName: value('displayName') } } });
        if (data) session.signIn(data.register);
      } else {
        const { data } = await login({ variables: { input: { login: value('login'), password: String(form.get('password')) } } });
        if (data) session.signIn(data.login);
      }
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby={labelledBy} className="stack">
      {mode === 'signUp' ? (
        <>
          <Field label={t.auth.displayName} name="displayName" autoComplete="nickname" required />
          <Field label={t.auth.email} name="email" type="email" autoComplete="email" required />
        </>
      ) : (
        <Field label={t.auth.login} name="login" autoComplete="username" required />
      )}
      <Field label={t.auth.password} name="password" type="password" autoComplete={mode === 'signUp' ? 'new-password' : 'current-password'} minLength={mode === 'signUp' ? 8 : undefined} hint={mode === 'signUp' ? t.auth.passwordHint : undefined} required />
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} wording={{ unauthenticated: t.auth.wrongPassword }} />}
      <button type="submit" className="primary" disabled={busy}>
        {mode === 'signIn' ? t.auth.signIn : t.auth.signUp}
      </button>
    </form>
  );
}

function PhoneForm({ mode, labelledBy }: { mode: Mode; labelledBy: string }) {
  const { t } = useI18n();
  const { session } = useFirefly();
  const [requestCode, requestState] = useMutation(RequestSmsCodeDocument, ANONYMOUS);
  const [loginWithCode, loginState] = useMutation(LoginWithSmsCodeDocument, ANONYMOUS);
  const [register, registerState] = useMutation(RegisterDocument, ANONYMOUS);
  const [phone, setPhone] = useState('');
  const [cooldown, setCooldown] = useState(0);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (cooldown <= 0) return;
    const timer = setTimeout(() => setCooldown((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [cooldown]);

  const sendCode = async () => {
    setError(undefined);
    try {
      const { data } = await requestCode({ variables: { phone: phone.trim(), purpose: mode === 'signUp' ? 'REGISTER' : 'LOGIN' } });
      setSent(true);
      setCooldown(data?.requestSmsCode.cooldownSeconds ?? 60);
    } catch (caught) {
      setError(caught);
    }
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget);
    const code = String(form.get('code') ?? '').trim();
    try {
      if (mode === 'signUp') {
        const { data } = await register({ variables: { input: { phone: phone.trim(), smsCode: code, displayName: String(form.get('displayName') ?? '').trim() } } });
        if (data) session.signIn(data.register);
      } else {
        const { data } = await loginWithCode({ variables: { phone: phone.trim(), code } });
        if (data) session.signIn(data.loginWithSmsCode);
      }
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby={labelledBy} className="stack">
      {mode === 'signUp' && <Field label={t.auth.displayName} name="displayName" autoComplete="nickname" required />}
      <div className="row">
        <Field label={t.auth.phone} name="phone" type="tel" autoComplete="tel" inputMode="tel" required value={phone} onChange={setPhone} />
        <button type="button" onClick={() => void sendCode()} disabled={!phone.trim() || cooldown > 0 || requestState.loading} className="align-end">
          {cooldown > 0 ? t.auth.resendIn(cooldown) : t.auth.sendCode}
        </button>
      </div>
      {sent && (
        <p className="hint" role="status">
          {t.auth.codeSent}
        </p>
      )}
      <Field label={t.auth.code} name="code" autoComplete="one-time-code" inputMode="numeric" required />
      {error !== undefined && <ErrorNotice error={error} onDismiss={() => setError(undefined)} wording={{ unauthenticated: t.auth.wrongCode }} />}
      <button type="submit" className="primary" disabled={loginState.loading || registerState.loading}>
        {mode === 'signIn' ? t.auth.signIn : t.auth.signUp}
      </button>
    </form>
  );
}

interface FieldProps {
  label: string;
  name: string;
  type?: string;
  autoComplete?: string;
  inputMode?: 'tel' | 'numeric' | 'text';
  required?: boolean;
  minLength?: number;
  hint?: string;
  value?: string;
  onChange?: (value: string) => void;
}

function Field({ label, hint, onChange, value, ...input }: FieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} {...(onChange ? { value, onChange: (e) => onChange(e.target.value) } : {})} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint && (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      )}
    </div>
  );
}
