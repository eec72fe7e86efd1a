/**
 * Users (admin only): the list, a new user (staff with a PIN; support and admin with a password;
 * viewer), disabling one, and resetting a PIN or password. The rules are the API's: its answer
 * is shown next to the field it names.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { usePoll } from '../components/poll.js';
import { TextField } from '../components/TextField.js';
import { t } from '../i18n/index.js';
import type { AdminPage, UserRole, UserView } from './adminApi.js';
import { FieldError, useFieldErrors, type FieldErrors } from './fields.js';

const ROLES: UserRole[] = ['staff', 'viewer', 'support', 'admin'];

export function UsersPage({
  firstRun,
  onChanged,
  onGo,
}: {
  firstRun: boolean;
  onChanged: () => void;
  onGo: (p: AdminPage) => void;
}) {
  const users = usePoll(() => api<{ users: UserView[] }>('GET', '/api/users').then((r) => r.users), 0);
  const [created, setCreated] = useState<string | null>(null);
  const [resetFor, setResetFor] = useState<UserView | null>(null);
  const refresh = () => {
    users.refresh();
    onChanged();
  };

  return (
    <div class="admin-grid">
      <section class="card">
        <h2>{t('users.title')}</h2>
        {users.error && <p class="form-error">{users.error}</p>}
        <table class="admin-table" data-testid="users-table">
          <thead>
            <tr>
              <th>{t('users.id')}</th>
              <th>{t('users.name')}</th>
              <th>{t('users.role')}</th>
              <th>{t('users.state')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(users.value ?? []).map((u) => (
              <tr key={u.id} data-user={u.id}>
                <td>{u.id}</td>
                <td>{u.name}</td>
                <td>{t(`role.${u.role}`)}</td>
                <td>{u.disabled ? t('users.disabled') : t('users.active')}</td>
                <td class="row">
                  <button
                    class="btn btn-secondary"
                    onClick={() =>
                      void api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, {
                        disabled: !u.disabled,
                      }).then(refresh, () => undefined)
                    }
                  >
                    {u.disabled ? t('users.enable') : t('users.disable')}
                  </button>
                  <button class="btn btn-secondary" onClick={() => setResetFor(u)}>
                    {u.role === 'staff' ? t('users.resetPin') : t('users.resetPassword')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {users.value?.length === 0 && <p class="muted">{t('users.none')}</p>}
        {resetFor && (
          <ResetForm
            user={resetFor}
            onDone={() => {
              setResetFor(null);
              refresh();
            }}
          />
        )}
      </section>
      <section class="card">
        {firstRun && (
          <p class="caution" data-testid="first-run-users">
            {t('users.firstRun')}
          </p>
        )}
        {created && (
          <p class="ok-note" role="status">
            {t('users.created', { id: created })}{' '}
            <a
              href="/admin/stations"
              onClick={(e) => {
                e.preventDefault();
                onGo('stations');
              }}
            >
              {t('users.nextStations')}
            </a>
          </p>
        )}
        <NewUserForm
          onCreated={(id) => {
            setCreated(id);
            refresh();
          }}
        />
      </section>
    </div>
  );
}

function NewUserForm({ onCreated }: { onCreated: (id: string) => void }) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<UserRole>('staff');
  const [secret, setSecret] = useState('');
  const errors = useFieldErrors();

  const submit = (e: Event) => {
    e.preventDefault();
    errors.clear();
    api('POST', '/api/users', { id: id.trim(), name: name.trim(), role, secret }).then(() => {
      onCreated(id.trim());
      setId('');
      setName('');
      setSecret('');
    }, errors.take);
  };
  const pin = role === 'staff';
  return (
    <form class="admin-form" noValidate onSubmit={submit} data-testid="new-user">
      <h2>{t('users.new')}</h2>
      <TextField label={t('users.id')} name="id" value={id} onValue={setId}>
        <small class="muted">{t('users.idHint')}</small>
        <FieldError errors={errors} field="body.id" />
      </TextField>
      <TextField label={t('users.name')} name="name" value={name} onValue={setName}>
        <FieldError errors={errors} field="body.name" />
      </TextField>
      <label class="field">
        <span>{t('users.role')}</span>
        <select
          name="role"
          value={role}
          onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as UserRole)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
        <small class="muted">{t(`users.roleHint.${role}`)}</small>
      </label>
      <SecretField
        label={pin ? t('users.pin') : t('users.password')}
        name="secret"
        pin={pin}
        inputMode={pin ? 'numeric' : 'text'}
        value={secret}
        onValue={setSecret}
        errors={errors}
      />
      <FieldError errors={errors} field="" />
      <button type="submit" class="btn btn-primary">
        {t('users.create')}
      </button>
    </form>
  );
}

function ResetForm({ user, onDone }: { user: UserView; onDone: () => void }) {
  const [secret, setSecret] = useState('');
  const errors = useFieldErrors();
  const pin = user.role === 'staff';
  return (
    <form
      class="admin-form inset"
      noValidate
      data-testid="reset-form"
      onSubmit={(e) => {
        e.preventDefault();
        errors.clear();
        api('PATCH', `/api/users/${encodeURIComponent(user.id)}`, { secret }).then(onDone, errors.take);
      }}
    >
      <SecretField
        label={
          <>
            {pin ? t('users.newPin') : t('users.newPassword')} — {user.name}
          </>
        }
        name="new-secret"
        pin={pin}
        value={secret}
        onValue={setSecret}
        errors={errors}
      />
      <FieldError errors={errors} field="" />
      <div class="row">
        <button type="submit" class="btn btn-primary">
          {t('users.save')}
        </button>
        <button type="button" class="btn btn-secondary" onClick={onDone}>
          {t('start.cancel')}
        </button>
      </div>
    </form>
  );
}

/** A new PIN (staff) or password, with the rule it must meet and the server's answer to it. */
function SecretField({
  label,
  name,
  pin,
  inputMode,
  value,
  onValue,
  errors,
}: {
  label: ComponentChildren;
  name: string;
  pin: boolean;
  inputMode?: 'numeric' | 'text';
  value: string;
  onValue: (v: string) => void;
  errors: FieldErrors;
}) {
  return (
    <TextField
      label={label}
      name={name}
      type="password"
      autocomplete="new-password"
      inputMode={inputMode}
      value={value}
      onValue={onValue}
    >
      <small class="muted">{pin ? t('users.pinHint') : t('users.passwordHint')}</small>
      <FieldError errors={errors} field="body.secret" />
    </TextField>
  );
}
