/**
 * Remote support (`/support`, support or admin login): live pressure traces per station, the
 * controller and device links and loop timing, alarm and audit history, maintenance counters,
 * self-tests, the board configuration (read-only), a log download, and on a simulated board the
 * simulator's fault injection.
 */
import { useEffect, useState } from 'preact/hooks';
import { login, logout, whoAmI, type Actor } from '../api.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { LoginForm } from '../components/LoginForm.js';
import { t } from '../i18n/index.js';
import { SupportPage } from './SupportPage.js';

export function Support({ onLangChange }: { onLangChange: () => void }) {
  const [actor, setActor] = useState<Actor | null>(null);
  useEffect(() => {
    whoAmI().then(setActor, () => setActor({ who: 'anonymous', role: 'anonymous' }));
  }, []);
  if (actor === null) return <p class="walkup-message">{t('link.connecting')}</p>;
  if (actor.role !== 'support' && actor.role !== 'admin') {
    return <SupportLogin onLangChange={onLangChange} onDone={setActor} />;
  }
  return (
    <SupportPage
      actor={actor}
      onLangChange={onLangChange}
      onSignOut={() => {
        void logout().finally(() => setActor({ who: 'anonymous', role: 'anonymous' }));
      }}
    />
  );
}

function SupportLogin({ onDone, onLangChange }: { onDone: (a: Actor) => void; onLangChange: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="support-login">
      <header class="top-bar">
        <h1>{t('support.title')}</h1>
        <LangSwitch onChange={onLangChange} />
      </header>
      <LoginForm
        class="card login-card"
        intro={
          <>
            <h2>{t('support.login')}</h2>
            <p>{t('support.needRole')}</p>
          </>
        }
        user={{ label: t('support.user'), value: user, onValue: setUser }}
        secret={{
          label: t('support.password'),
          name: 'password',
          value: password,
          onValue: setPassword,
          autocomplete: 'current-password',
        }}
        error={error}
        onSubmit={(e) => {
          e.preventDefault();
          login(user, password).then(
            (a) => (a.role === 'support' || a.role === 'admin' ? onDone(a) : setError(t('support.needRole'))),
            (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
          );
        }}
      >
        <button type="submit" class="btn btn-primary">
          {t('support.signIn')}
        </button>
      </LoginForm>
    </div>
  );
}
