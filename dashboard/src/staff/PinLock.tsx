import { useState } from 'preact/hooks';
import { login, type Actor } from '../api.js';
import { LoginForm } from '../components/LoginForm.js';
import { Modal } from '../components/Modal.js';
import { t } from '../i18n/index.js';

const LAST_USER_KEY = 'presso.staffUser';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'] as const;

/** The staff PIN pad. A wrong PIN gets the server's answer only (it rate-limits guessing). */
export function PinLock({ onUnlocked, onCancel }: { onUnlocked: (a: Actor) => void; onCancel: () => void }) {
  const [user, setUser] = useState(localStorage.getItem(LAST_USER_KEY) ?? '');
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e?: Event) => {
    e?.preventDefault();
    setBusy(true);
    try {
      const actor = await login(user.trim(), pin);
      localStorage.setItem(LAST_USER_KEY, user.trim());
      onUnlocked(actor);
    } catch {
      setError(t('lock.wrong'));
      setPin('');
    } finally {
      setBusy(false);
    }
  };

  const press = (k: (typeof KEYS)[number]) => {
    setError(null);
    if (k === 'clear') setPin('');
    else if (k === 'back') setPin((p) => p.slice(0, -1));
    else if (pin.length < 8) setPin((p) => p + k);
  };

  return (
    <Modal title={t('lock.title')}>
      <LoginForm
        class="pin-form"
        user={{ label: t('lock.user'), value: user, onValue: setUser }}
        secret={{
          label: t('lock.pin'),
          name: 'pin',
          value: pin,
          onValue: (v) => setPin(v.replace(/\D/g, '').slice(0, 8)),
          autocomplete: 'off',
          inputMode: 'numeric',
        }}
        extra={
          <div class="pin-pad">
            {KEYS.map((k) => (
              <button
                type="button"
                key={k}
                class="btn btn-key"
                onClick={() => press(k)}
                aria-label={k === 'clear' ? t('lock.clear') : k === 'back' ? '⌫' : k}
              >
                {k === 'clear' ? t('lock.clear') : k === 'back' ? '⌫' : k}
              </button>
            ))}
          </div>
        }
        error={error}
        onSubmit={submit}
      >
        <div class="modal-actions">
          <button type="button" class="btn btn-secondary" onClick={onCancel}>
            {t('lock.cancel')}
          </button>
          <button
            type="submit"
            class="btn btn-primary"
            disabled={busy || user.trim() === '' || pin.length < 4}
          >
            {t('lock.ok')}
          </button>
        </div>
      </LoginForm>
    </Modal>
  );
}
