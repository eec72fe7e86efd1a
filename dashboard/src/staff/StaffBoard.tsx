/**
 * The staff wall board (`/`), for a 10-inch landscape tablet. Locked, it shows everything live and
 * every STOP works (DESIGN.md: stop needs no login); unlocked with a staff PIN it also starts
 * sessions and acknowledges alarms. It locks itself again after a few idle minutes.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  api,
  logout,
  stopAll,
  stopCentreStation,
  stopStation,
  whoAmI,
  WALK_UP_STOP_REASON,
  type Actor,
  type AlarmInfo,
  type LiveFrame,
  type ProgramRecordView,
} from '../api.js';
import { useLiveLink, usePoll } from '../components/hooks.js';
import { LangSwitch } from '../components/LangSwitch.js';
import { LinkBanner } from '../components/LinkBanner.js';
import { activeAlarms } from '../format.js';
import { t } from '../i18n/index.js';
import { highAlarmSound } from '../sound.js';
import { AlarmPanel } from './AlarmPanel.js';
import { PinLock } from './PinLock.js';
import type { QrSheet as QrSheetType } from './QrSheet.js';
import { StartDialog } from './StartDialog.js';
import { StationTile } from './StationTile.js';

const ANONYMOUS: Actor = { who: 'anonymous', role: 'anonymous' };
/** A wall tablet left unlocked is a tablet anyone can start a pump from. */
const AUTO_LOCK_MS = 5 * 60_000;
const MUTE_MS = 2 * 60_000;
const HISTORY_POLL_MS = 5000;

export function StaffBoard({ onLangChange }: { onLangChange: () => void }) {
  // {centre: true}: the other gateways' stations too, when this gateway is in a centre.
  const live = useLiveLink([{ overview: true }, { centre: true }]);

  const [actor, setActor] = useState<Actor>(ANONYMOUS);
  const [showPin, setShowPin] = useState(false);
  const [startFor, setStartFor] = useState<string | null>(null);
  const [qrFor, setQrFor] = useState<string | null>(null);
  // The QR encoder is only fetched when someone prints the codes.
  const [QrSheet, setQrSheet] = useState<typeof QrSheetType | null>(null);
  useEffect(() => {
    if (qrFor !== null && QrSheet === null)
      void import('./QrSheet.js').then((m) => setQrSheet(() => m.QrSheet));
  }, [qrFor, QrSheet]);
  const [notices, setNotices] = useState<{ id: string; text: string }[]>([]);
  const [mutedUntil, setMutedUntil] = useState(0);
  const unlocked = actor.role === 'staff' || actor.role === 'support' || actor.role === 'admin';

  useEffect(() => {
    whoAmI().then(setActor, () => setActor(ANONYMOUS));
  }, []);

  const programs = usePoll(() => api<{ programs: ProgramRecordView[] }>('GET', '/api/programs'), 60_000);
  const history = usePoll(
    () =>
      unlocked
        ? api<{ history: AlarmInfo[] }>('GET', '/api/alarms?limit=50').then((r) => r.history)
        : Promise.resolve(null),
    HISTORY_POLL_MS,
    [unlocked],
  );

  const lock = () => {
    void logout().catch(() => undefined);
    setActor(ANONYMOUS);
  };

  useEffect(() => {
    if (!unlocked) return;
    let timer = window.setTimeout(lock, AUTO_LOCK_MS);
    const reset = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(lock, AUTO_LOCK_MS);
    };
    window.addEventListener('pointerdown', reset);
    return () => {
      window.clearTimeout(timer);
      window.removeEventListener('pointerdown', reset);
    };
  }, [unlocked]);

  const all = live.stations();
  // The alarm panel, the sound and the QR sheet are this gateway's: another gateway's alarms are
  // acknowledged on its own board (its tiles still show them).
  const stations = all.filter((s) => s.gatewayId === undefined);
  const remote = all.filter((s) => s.gatewayId !== undefined);
  const centre = live.centre;
  const gatewayOf = (id: string | undefined) => centre?.gateways.find((g) => g.gatewayId === id);
  const stopAllEverywhere = () => {
    void stopAll().catch(() => undefined);
    // Every station of every online gateway: stopping an idle station changes nothing.
    for (const s of remote) {
      if (s.gatewayId !== undefined && s.stationId !== undefined && gatewayOf(s.gatewayId)?.online)
        void stopCentreStation(s.gatewayId, s.stationId).catch(() => undefined);
    }
  };
  const tile = (f: LiveFrame) => {
    const gw = f.gatewayId === undefined ? undefined : gatewayOf(f.gatewayId);
    return (
      <StationTile
        key={f.id}
        frame={f}
        live={live.isLive(f.id) && (f.gatewayId === undefined || (gw?.online ?? false))}
        unlocked={unlocked}
        onStop={() =>
          void (
            f.gatewayId !== undefined && f.stationId !== undefined
              ? stopCentreStation(f.gatewayId, f.stationId)
              : stopStation(f.id)
          ).catch(() => undefined)
        }
        onStart={() => setStartFor(f.id)}
        onQr={() => setQrFor(f.id)}
        {...(f.gatewayId !== undefined ? { remote: { url: gw?.url } } : {})}
      />
    );
  };
  const remoteGateways = [...new Set(remote.map((s) => s.gatewayId ?? ''))];
  const nameOf = (id: string | null) => (id === null ? t('alarms.board') : (live.frames.get(id)?.name ?? id));

  // A walk-up user's STOP is how "tingling, numbness or pain" reaches staff.
  useEffect(
    () =>
      live.onSession((m) => {
        if (m.kind === 'ended' && m.reason?.includes(WALK_UP_STOP_REASON)) {
          setNotices((n) => [...n, { id: m.id, text: t('board.walkUpStop', { name: nameOf(m.stationId) }) }]);
        }
      }),
    [live],
  );

  const alarms = activeAlarms(stations);
  const soundOn = alarms.some((a) => a.priority === 'high' && a.active) && Date.now() >= mutedUntil;
  useEffect(() => highAlarmSound(soundOn), [soundOn]);
  useEffect(() => () => highAlarmSound(false), []);

  const ack = (a: AlarmInfo) => {
    void api('POST', `/api/alarms/${encodeURIComponent(a.id)}/acknowledge`, {}).then(
      history.refresh,
      () => undefined,
    );
  };

  const startStation = startFor === null ? undefined : live.frames.get(startFor);
  const anyStale = stations.some((s) => !live.isLive(s.id));

  return (
    <div class="staff-board">
      <LinkBanner link={live.link} controllerDown={live.link === 'up' && stations.length > 0 && anyStale} />
      {live.link === 'up' && centre !== null && centre.broker !== 'connected' && centre.broker !== 'off' && (
        <div class="link-banner centre-stale" role="alert" data-testid="centre-stale">
          {t('centre.stale')}
        </div>
      )}
      <header class="top-bar">
        <h1>{t('app.title')}</h1>
        <div class={`lock-state ${unlocked ? 'is-unlocked' : 'is-locked'}`} data-testid="lock-state">
          {unlocked ? t('board.loggedInAs', { user: actor.who }) : t('lock.locked')}
        </div>
        {unlocked ? (
          <button class="btn btn-secondary" onClick={lock}>
            {t('lock.lock')}
          </button>
        ) : (
          <button class="btn btn-primary" onClick={() => setShowPin(true)}>
            {t('lock.unlock')}
          </button>
        )}
        <button class="btn btn-secondary" onClick={() => setQrFor('all')}>
          {t('board.qrAll')}
        </button>
        <LangSwitch onChange={onLangChange} />
        <button class="btn btn-stop btn-stop-all" onClick={stopAllEverywhere}>
          {t('board.stopAll')}
        </button>
      </header>
      {notices.map((n) => (
        <div class="notice" role="alert" key={n.id}>
          <span>{n.text}</span>
          <button
            class="btn btn-secondary"
            onClick={() => setNotices((all) => all.filter((x) => x.id !== n.id))}
          >
            {t('board.dismiss')}
          </button>
        </div>
      ))}
      <main class="board-main">
        <div class="gateways">
          {remoteGateways.length > 0 && (
            <h2 class="gateway-head">{t('centre.thisGateway', { id: centre?.gatewayId ?? '' })}</h2>
          )}
          <div class="tiles">{stations.map(tile)}</div>
          {remoteGateways.map((id) => {
            const gw = gatewayOf(id);
            const offline = !(gw?.online ?? false);
            return (
              <section
                class={`gateway-group ${offline ? 'is-offline' : ''}`}
                data-gateway={id}
                key={id}
                aria-label={gw?.name ?? id}
              >
                <h2 class="gateway-head">
                  {t('centre.gateway', { name: gw?.name ?? id })}
                  {offline && (
                    <span class="gateway-offline" data-testid="gateway-offline">
                      {t('centre.offline')}
                    </span>
                  )}
                </h2>
                <div class="tiles">{remote.filter((s) => s.gatewayId === id).map(tile)}</div>
              </section>
            );
          })}
        </div>
        <AlarmPanel
          active={alarms}
          history={history.value}
          nameOf={nameOf}
          unlocked={unlocked}
          onAck={ack}
          muted={Date.now() < mutedUntil}
          onMute={() => setMutedUntil(Date.now() + MUTE_MS)}
        />
      </main>
      {showPin && (
        <PinLock
          onUnlocked={(a) => {
            setActor(a);
            setShowPin(false);
          }}
          onCancel={() => setShowPin(false)}
        />
      )}
      {startStation && (
        <StartDialog
          station={startStation}
          programs={(programs.value?.programs ?? []).map((r) => r.program)}
          onClose={() => setStartFor(null)}
        />
      )}
      {qrFor !== null && QrSheet !== null && (
        <QrSheet
          stations={stations
            .filter((s) => qrFor === 'all' || s.id === qrFor)
            .map((s) => ({ id: s.id, name: s.name }))}
          onClose={() => setQrFor(null)}
        />
      )}
    </div>
  );
}
