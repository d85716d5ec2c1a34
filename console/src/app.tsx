// The shell: who is signed in, the registry's time zone, hash routes (so the server needs no
// fallback and the shell works offline), the header with the outbox indicator, and the pages.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AppContext, go, useOutboxEntries, useRoute } from './state';
import { LangPicker } from './components/LangPicker';
import { currentMe, loadRegistry, onSessionExpired, outbox, signOut, type Me } from './api/client';
import { lang, setLang, t, type Lang } from './i18n';
import { DEFAULT_TIMEZONE } from './time';
import { Confirm } from './components/ui';
import { SignIn } from './pages/SignIn';
import { EventsList } from './pages/EventsList';
import { hasScope } from './session';

/** A page module fetched only when its route is first opened (admin and plans are heavy). */
function useLazy<P>(load: () => Promise<ComponentType<P>>, wanted: boolean): ComponentType<P> | null {
  const [C, setC] = useState<ComponentType<P> | null>(null);
  useEffect(() => {
    if (wanted && !C) void load().then((c) => setC(() => c));
  }, [wanted]);
  return C;
}

function Header(props: { me: Me; lang: Lang; onLang: (l: Lang) => void; onSignOut: () => void; route: string[] }) {
  const entries = useOutboxEntries();
  const waiting = entries.length;
  const at = props.route[0] ?? 'events';
  const link = (href: string, label: string, here: boolean) => (
    <a href={href} aria-current={here ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <header class="top">
      <div class="bar">
        <a class="brand" href="#/events">
          {t('app.name')}
        </a>
        <a class={`outbox-badge${waiting ? ' waiting' : ''}`} href="#/outbox" aria-current={at === 'outbox' ? 'page' : undefined}>
          {waiting ? t('outbox.open', { n: waiting }) : t('outbox.all_sent')}
        </a>
      </div>
      <nav aria-label={t('nav.label')}>
        {link('#/events', t('nav.events'), at === 'events' && props.route[1] !== 'new')}
        {hasScope(props.me, 'events:write') && link('#/events/new', t('nav.new_event'), at === 'events' && props.route[1] === 'new')}
        {link('#/plans', t('nav.plans'), at === 'plans')}
        {hasScope(props.me, 'events:verify') && link('#/verify', t('nav.verify'), at === 'verify')}
        {hasScope(props.me, 'reports:read') && link('#/dashboard', t('nav.dashboard'), at === 'dashboard')}
        {hasScope(props.me, 'admin') && link('#/admin', t('nav.admin'), at === 'admin')}
        <span class="spacer" />
        <span class="who">{t('nav.signed_in_as', { name: props.me.username ?? props.me.client_id ?? '' })}</span>
        <LangPicker value={props.lang} onChange={props.onLang} />
        <button type="button" onClick={props.onSignOut}>
          {t('nav.signout')}
        </button>
      </nav>
    </header>
  );
}

export function App() {
  const [language, setLanguage] = useState<Lang>(lang());
  const [me, setMe] = useState<Me | null>(currentMe());
  const [expired, setExpired] = useState(false);
  const [tz, setTz] = useState(DEFAULT_TIMEZONE);
  const [online, setOnline] = useState(navigator.onLine);
  const [askSignOut, setAskSignOut] = useState(false);
  const [pending, setPending] = useState(0);
  const route = useRoute();

  useEffect(() => {
    void loadRegistry().then((r) => r && setTz(r.timezone));
    const up = () => {
      setOnline(true);
      void outbox.flush();
    };
    const down = () => setOnline(false);
    addEventListener('online', up);
    addEventListener('offline', down);
    // A write queued while the server asked to wait (503, 429) is tried again on a timer too.
    const timer = setInterval(() => void outbox.flush(), 30000);
    const off = onSessionExpired(() => {
      setExpired(true);
      setMe(null);
    });
    return () => {
      removeEventListener('online', up);
      removeEventListener('offline', down);
      clearInterval(timer);
      off();
    };
  }, []);

  // A new page moves focus to its content, so a screen reader starts there and Tab continues there.
  const path = route.join('/');
  const [firstPath] = useState(path);
  useEffect(() => {
    if (path !== firstPath) document.getElementById('main')?.focus();
  }, [path]);

  useEffect(() => {
    outbox.setAccount(me?.id ?? null);
    if (me) void outbox.flush();
  }, [me?.id]);

  const changeLang = (l: Lang) => {
    setLang(l);
    setLanguage(l);
  };

  const LazyPlans = useLazy(() => import('./pages/Plans').then((m) => m.Plans), !!me && route[0] === 'plans');
  const LazyAdmin = useLazy(() => import('./pages/admin/Admin').then((m) => m.Admin), !!me && route[0] === 'admin');
  const LazyEvent = useLazy(
    () => import('./pages/EventPage').then((m) => m.EventPage),
    !!me && route[0] === 'events' && !!route[1] && route[1] !== 'new' && route[2] !== 'edit',
  );
  const LazyForm = useLazy(
    () => import('./pages/EventForm').then((m) => m.EventForm),
    !!me && route[0] === 'events' && (route[1] === 'new' || route[2] === 'edit'),
  );
  const LazyDashboard = useLazy(
    () => import('./pages/dashboard/Dashboard').then((m) => m.Dashboard),
    !!me && route[0] === 'dashboard' && hasScope(me, 'reports:read'),
  );
  const LazyQueue = useLazy(
    () => import('./pages/VerifyQueue').then((m) => m.VerifyQueue),
    !!me && route[0] === 'verify' && hasScope(me, 'events:verify'),
  );
  const LazyOutbox = useLazy(() => import('./pages/OutboxPage').then((m) => m.OutboxPage), !!me && route[0] === 'outbox');

  if (!me) {
    return (
      <SignIn
        lang={language}
        onLang={changeLang}
        expired={expired}
        onSignedIn={(m) => {
          setExpired(false);
          setMe(m);
        }}
      />
    );
  }

  const startSignOut = async () => {
    setPending((await outbox.list()).length);
    setAskSignOut(true);
  };
  const finishSignOut = async (yes: boolean) => {
    setAskSignOut(false);
    if (!yes) return;
    await signOut();
    setMe(null);
    go('/events');
  };

  let page;
  const [section, id, sub] = route;
  const loading = <p class="loading">{t('app.loading')}</p>;
  if (section === 'plans') page = LazyPlans ? <LazyPlans id={id} /> : loading;
  else if (section === 'admin') page = LazyAdmin ? <LazyAdmin tab={id} /> : loading;
  else if (section === 'dashboard' && hasScope(me, 'reports:read')) page = LazyDashboard ? <LazyDashboard print={id === 'print'} view={id} /> : loading;
  else if (section === 'verify' && hasScope(me, 'events:verify')) page = LazyQueue ? <LazyQueue /> : loading;
  else if (section === 'outbox') page = LazyOutbox ? <LazyOutbox /> : loading;
  else if (section === 'events' && id === 'new') page = LazyForm ? <LazyForm /> : loading;
  else if (section === 'events' && id && sub === 'edit') page = LazyForm ? <LazyForm id={id} /> : loading;
  else if (section === 'events' && id) page = LazyEvent ? <LazyEvent id={id} /> : loading;
  else page = <EventsList />;

  return (
    <AppContext.Provider value={{ me, tz, lang: language, online }}>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        {t('app.skip')}
      </a>
      <Header me={me} lang={language} onLang={changeLang} onSignOut={() => void startSignOut()} route={route} />
      {!online && <p class="offline" role="status">{t('app.offline_banner')}</p>}
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <Confirm
        open={askSignOut}
        title={t('signout.title')}
        message={pending ? t('signout.pending', { n: pending }) : t('signout.title')}
        confirmLabel={pending ? t('signout.confirm') : t('nav.signout')}
        danger={pending > 0}
        onAnswer={(yes) => void finishSignOut(yes)}
      />
    </AppContext.Provider>
  );
}
