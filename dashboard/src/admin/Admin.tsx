/**
 * The admin pages (`/admin/<page>`): users, stations, programs, history, audit, clients, privacy
 * and notifications (Privacy.tsx), for the people who
 * run a centre. Sign-in with a name and password (or a staff PIN), or with the admin token the
 * gateway was started with (the first login of a fresh install). Each page is shown to the roles
 * the API lets read it, read-only where the API would refuse a change; the server checks again.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, login, logout, whoAmI, type Actor } from '../api.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { LoginForm } from '../components/LoginForm.js';
import { t } from '../i18n/index.js';
import { PAGE_ROLES, setupInfo, tokenLogin, type AdminPage } from './adminApi.js';
import './catalogue.js';
import { AdminPageView } from './pages.js';
import './admin.css';

const PAGES = Object.keys(PAGE_ROLES) as AdminPage[];
const ANONYMOUS: Actor = { who: 'anonymous', role: 'anonymous' };

function pageFromPath(): AdminPage | null {
  const m = /^\/admin\/([a-z]+)\/?$/.exec(location.pathname);
  return m && (PAGES as string[]).includes(m[1] ?? '') ? (m[1] as AdminPage) : null;
}

export function Admin({ onLangChange }: { onLangChange: () => void }) {
  const [actor, setActor] = useState<Actor | null>(null);
  const [setup, setSetup] = useState<{ firstRun: boolean; adminToken: boolean } | null>(null);
  const [page, setPage] = useState<AdminPage | null>(pageFromPath());

  const refreshSetup = () => void setupInfo().then(setSetup, () => undefined);
  useEffect(() => {
    whoAmI().then(setActor, () => setActor(ANONYMOUS));
    refreshSetup();
    const onPop = () => setPage(pageFromPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  if (actor === null) return <p class="walkup-message">{t('link.connecting')}</p>;
  if (actor.role === 'anonymous') {
    return <AdminLogin setup={setup} onLangChange={onLangChange} onDone={setActor} />;
  }

  const allowed = PAGES.filter((p) => (PAGE_ROLES[p] as readonly string[]).includes(actor.role));
  // A fresh install: the admin's first job is the first staff user.
  const fallback: AdminPage | undefined = setup?.firstRun && allowed.includes('users') ? 'users' : allowed[0];
  const current = page !== null && allowed.includes(page) ? page : fallback;
  const go = (p: AdminPage) => {
    history.pushState(null, '', `/admin/${p}`);
    setPage(p);
  };

  return (
    <div class="admin">
      <header class="top-bar">
        <h1>{t('admin.title')}</h1>
        <nav class="admin-nav" aria-label={t('admin.title')}>
          {allowed.map((p) => (
            <a
              key={p}
              href={`/admin/${p}`}
              class={`btn ${p === current ? 'btn-primary' : 'btn-secondary'}`}
              aria-current={p === current ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go(p);
              }}
            >
              {t(`admin.page.${p}`)}
            </a>
          ))}
        </nav>
        <span class="muted" data-testid="admin-user">
          {t('admin.signedInAs', { user: actor.who, role: t(`role.${actor.role}`) })}
        </span>
        <LangSwitch onChange={onLangChange} />
        <a class="btn btn-secondary" href="/">
          {t('admin.toBoard')}
        </a>
        <button class="btn btn-secondary" onClick={() => void logout().finally(() => setActor(ANONYMOUS))}>
          {t('support.signOut')}
        </button>
      </header>
      <main class="admin-main">
        {current === undefined && <p>{t('admin.nothingForRole')}</p>}
        {current !== undefined && (
          <AdminPageView
            page={current}
            actor={actor}
            firstRun={setup?.firstRun === true}
            onChanged={refreshSetup}
            onGo={go}
          />
        )}
      </main>
    </div>
  );
}

function AdminLogin({
  setup,
  onDone,
  onLangChange,
}: {
  setup: { firstRun: boolean; adminToken: boolean } | null;
  onDone: (a: Actor) => void;
  onLangChange: () => void;
}) {
  const [useToken, setUseToken] = useState(false);
  const [user, setUser] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const tokenMode = useToken || setup?.firstRun === true;

  const submit = (e: Event) => {
    e.preventDefault();
    setError(null);
    (tokenMode ? tokenLogin(secret) : login(user.trim(), secret)).then(onDone, (err: unknown) =>
      setError(err instanceof ApiError && err.status === 401 ? t('admin.wrong') : String(err)),
    );
  };

  return (
    <div class="support-login">
      <header class="top-bar">
        <h1>{t('admin.title')}</h1>
        <LangSwitch onChange={onLangChange} />
      </header>
      <LoginForm
        class="card login-card"
        intro={
          <>
            <h2>{t('admin.login')}</h2>
            {setup?.firstRun && (
              <p class="caution" data-testid="first-run">
                {setup.adminToken ? t('admin.firstRun') : t('admin.firstRunNoToken')}
              </p>
            )}
          </>
        }
        {...(!tokenMode && { user: { label: t('support.user'), value: user, onValue: setUser } })}
        secret={{
          label: tokenMode ? t('admin.token') : t('admin.secret'),
          name: tokenMode ? 'token' : 'secret',
          value: secret,
          onValue: setSecret,
          autocomplete: tokenMode ? 'off' : 'current-password',
        }}
        error={error}
        onSubmit={submit}
      >
        <div class="row">
          <button type="submit" class="btn btn-primary">
            {t('support.signIn')}
          </button>
          {!setup?.firstRun && (
            <button
              type="button"
              class="btn btn-secondary"
              onClick={() => {
                setUseToken(!useToken);
                setSecret('');
              }}
            >
              {useToken ? t('admin.usePassword') : t('admin.useToken')}
            </button>
          )}
        </div>
      </LoginForm>
    </div>
  );
}
