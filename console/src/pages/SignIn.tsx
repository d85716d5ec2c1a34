import { useState } from 'preact/hooks';
import { signIn, type Me } from '../api/client';
import { t, type Lang } from '../i18n';
import { LangPicker } from '../components/LangPicker';
import { Field, Notice } from '../components/ui';

export function SignIn(props: { lang: Lang; onLang: (l: Lang) => void; expired: boolean; onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await signIn(username, password);
    setBusy(false);
    if (r.ok) {
      setPassword('');
      props.onSignedIn(r.me);
      return;
    }
    setError(
      r.reason === 'invalid'
        ? t('signin.failed')
        : r.reason === 'throttled'
          ? t('signin.throttled', { seconds: r.retryAfter ?? 60 })
          : r.reason === 'network'
            ? t('signin.offline')
            : t('common.server_error'),
    );
  };

  return (
    <main id="main" class="signin">
      <div class="signin-box">
        <p class="brand">{t('app.name')}</p>
        <p class="tagline">{t('app.tagline')}</p>
        <h1>{t('signin.title')}</h1>
        <LangPicker value={props.lang} onChange={props.onLang} />
        {props.expired && <Notice kind="info">{t('signin.expired')}</Notice>}
        <form onSubmit={(e) => void submit(e)}>
          <Field label={t('signin.username')}>
            {(a) => (
              <input
                {...a}
                name="username"
                autocomplete="username"
                required
                value={username}
                onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={t('signin.password')}>
            {(a) => (
              <input
                {...a}
                type="password"
                name="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
          {error && <Notice kind="error">{error}</Notice>}
          <button type="submit" class="primary" disabled={busy}>
            {t('signin.submit')}
          </button>
        </form>
      </div>
    </main>
  );
}
