/**
 * The safety supervisor: rules checked every tick, before any output is computed or written.
 * Pure logic: it sees what the sensors said and what was written last tick, and returns trips.
 * The station vents in the same tick a venting trip is returned.
 *
 * Every threshold comes from LIMITS (gateway/limits.ts), which docs/safety.md prints; every
 * alarm's priority and whether it vents from the alarm table (gateway/alarm-table.ts). Each rule is
 * a small named function; the lists below (ZONE_RULES, STATION_RULES) say in which order they
 * run. The board-wide rules are in board-supervisor.ts. A rule reads the observation and its own tracked state and raises trips.
 *
 * Nothing is allocated on a tick that trips nothing (issue 16): the rules' state, the check
 * context and the returned list are the supervisor's own and are reused every tick.
 */
import type { PressureSample } from '../drivers/io.js';
import { LIMITS } from '../limits.js';
import type { ZoneCommandKind } from './regulator.js';
import { TripList, type Trip } from './trips.js';

export interface ZoneObservation {
  sample: PressureSample;
  /** What was written last tick. */
  inlet: boolean;
  exhaust: boolean;
  /** The regulator's command last tick. */
  command: ZoneCommandKind;
  /** The zone's full program target this session (0 without a session). */
  setpointMmHg: number;
  /** Top-up time within the current hold. */
  topUpInHoldMs: number;
  /** The regulator has brought the zone to its fill target. */
  reached: boolean;
  /** Compensated leak rate of the current hold, mmHg/min, once known. */
  leakRateMmHgPerMin?: number | undefined;
}

export interface StationObservation {
  nowMs: number;
  /**
   * When this tick's sampling round began (≤ nowMs). Staleness is judged against it: a process
   * preempted between sampling and judging must not take its own fresh samples for stale ones
   * (that latched sensor-implausible on idle stations of a starved controller). Defaults to nowMs.
   */
  sampledFromMs?: number;
  zones: readonly ZoneObservation[];
  /** Pump running as written last tick. */
  pumpOn: boolean;
  ceilingMmHg: number;
  /** A session is running (or paused): its time counts against the maximum. */
  sessionElapsedMs: number | null;
  sessionMaxMs: number;
  /** Why the station's I/O is unreachable, when it is. */
  linkDown: string | null;
  /** The program's longest allowed fill of one zone (inflateMaxS), ms; 0 without a session. */
  fillLimitMs: number;
}

const MS_PER_S = 1000;

interface ZoneTrack {
  over: number;
  outOfRange: number;
  errors: number;
  lastSampleAt: number;
  /** Stuck detection: the value and since when it has not changed at all. */
  sameValue: number;
  sameSince: number;
  fillSince: number | null;
  fillFrom: number;
  fillVerified: boolean;
  ventSince: number | null;
  ventVerified: boolean;
  gainingSince: number | null;
  ventedSince: number | null;
  leakFlagged: boolean;
}

const newTrack = (now: number): ZoneTrack => ({
  over: 0,
  outOfRange: 0,
  errors: 0,
  lastSampleAt: now,
  sameValue: Number.NaN,
  sameSince: now,
  fillSince: null,
  fillFrom: 0,
  fillVerified: false,
  ventSince: null,
  ventVerified: false,
  gainingSince: null,
  ventedSince: null,
  leakFlagged: false,
});

/**
 * What a rule sees besides the zone and its track: the station's observation and tracked
 * state, and where trips go. One per supervisor, refilled for every zone of every tick.
 */
interface Check {
  obs: StationObservation;
  now: number;
  out: TripList;
  /** Compensated-leak alarms this session. */
  leakAlarms: number;
  deadHeadSince: number | null;
  /** The zone being checked: 0-based index and 1-based number. */
  i: number;
  zone: number;
  /** The zone's sample is newer than any before it. */
  fresh: boolean;
  /** The zone's pressure, mmHg; set once the sensor rules have found the reading usable. */
  p: number;
}

/** 'skip-zone': the zone's reading cannot be judged further this tick; the rules after it skip it. */
type ZoneVerdict = 'next' | 'skip-zone';
type ZoneRule = (c: Check, z: ZoneObservation, t: ZoneTrack) => ZoneVerdict;
type StationRule = (c: Check, tracks: ZoneTrack[]) => void;

/**
 * The over-pressure trip level of a zone: min(setpoint + margin, ceiling) during a session, the
 * margin alone without one (pneumatics reference §8). Exported for the bench's trip trace, which
 * must time the crossing of exactly this level.
 */
export function overPressureLimitMmHg(setpointMmHg: number, ceilingMmHg: number): number {
  return setpointMmHg > 0
    ? Math.min(setpointMmHg + LIMITS.tripMarginMmHg.default, ceilingMmHg)
    : LIMITS.tripMarginMmHg.default;
}

// ---- zone rules, in the order they run ----

function sensorGivesNoReading(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const s = z.sample;
  if (s.health === 'error') t.errors++;
  else t.errors = 0;
  if (t.errors < LIMITS.sensorErrorTicks.default) return 'next';
  c.out.raise(
    'sensor-implausible',
    `The zone ${c.zone} pressure sensor gives no reading (${s.detail ?? 'read error'}). The station was vented; check the sensor and its cable.`,
    c.zone,
  );
  return 'skip-zone';
}

function sensorStale(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const staleFor = (c.obs.sampledFromMs ?? c.now) - t.lastSampleAt;
  if (!(staleFor > LIMITS.sensorStaleMs.default)) return 'next';
  c.out.raise(
    'sensor-implausible',
    `The zone ${c.zone} pressure sensor has given no new value for ${Math.round(staleFor)} ms. The station was vented.`,
    c.zone,
  );
  return 'skip-zone';
}

/** A stale or failed sample that has not tripped yet has no pressure to judge. */
function sensorHasValue(c: Check, z: ZoneObservation, _t: ZoneTrack): ZoneVerdict {
  const s = z.sample;
  if (s.health !== 'ok' || !Number.isFinite(s.mmHg)) return 'skip-zone';
  c.p = s.mmHg;
  return 'next';
}

function sensorOutOfRange(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p } = c;
  if (c.fresh) {
    const bad = p < LIMITS.sensorMinMmHg.default || p > LIMITS.sensorMaxMmHg.default;
    t.outOfRange = bad ? t.outOfRange + 1 : 0;
  }
  if (t.outOfRange < 2) return 'next';
  c.out.raise(
    'sensor-implausible',
    `The zone ${c.zone} pressure sensor reads ${p.toFixed(0)} mmHg, which is impossible here. The station was vented; the sensor or its wiring is faulty.`,
    c.zone,
  );
  return 'skip-zone';
}

/**
 * Above min(setpoint + margin, ceiling) on 2 consecutive fresh samples, or on one fresh sample far
 * above it (docs/safety.md: the hard level).
 */
function overPressure(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p } = c;
  const limit = overPressureLimitMmHg(z.setpointMmHg, c.obs.ceilingMmHg);
  if (c.fresh) t.over = p > limit ? t.over + 1 : 0;
  const hard = c.fresh && p > limit + LIMITS.tripHardMarginMmHg.default;
  if (t.over >= 2 || hard) {
    c.out.raise(
      'over-pressure',
      `Zone ${c.zone} reached ${p.toFixed(0)} mmHg, above its limit of ${limit.toFixed(0)} mmHg. The station was vented at once.`,
      c.zone,
    );
  }
  return 'next';
}

/** Not one change of the reading while the chamber should be filling or venting. */
function sensorFrozen(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p } = c;
  const shouldMove = (z.inlet && c.obs.pumpOn) || (!z.exhaust && Math.abs(p) > LIMITS.ventBelowMmHg.default);
  if (c.fresh && (p !== t.sameValue || !shouldMove)) {
    t.sameValue = p;
    t.sameSince = c.now;
  } else if (c.fresh && c.now - t.sameSince >= LIMITS.sensorStuckMs.default) {
    c.out.raise(
      'sensor-implausible',
      `The zone ${c.zone} pressure reading is frozen at ${p.toFixed(1)} mmHg while the chamber should be changing. The station was vented; the sensor is faulty.`,
      c.zone,
    );
  }
  return 'next';
}

/**
 * A fill must raise the zone by X within T (Klipper's verify_heater), and reach its pressure within
 * the program's longest fill. Timed from the fill command, not from the inlet opening: a fill that
 * never gets the pump is not verified either.
 */
function inflationNotVerified(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p, now } = c;
  const filling = z.command === 'fill';
  const fillGaveUp = !filling && t.fillSince !== null && !z.reached && z.command === 'hold';
  if (filling && t.fillSince === null) {
    t.fillSince = now;
    t.fillFrom = p;
    t.fillVerified = false;
  } else if (!filling) {
    t.fillSince = null;
  }
  if (fillGaveUp) {
    c.out.raise(
      'inflation-not-verified',
      `Zone ${c.zone} did not reach its pressure within ${Math.round(c.obs.fillLimitMs / MS_PER_S)} s (${p.toFixed(0)} of ${z.setpointMmHg.toFixed(0)} mmHg). A hose may be off, the garment may leak or the pump may be failing. The station was vented.`,
      c.zone,
    );
  }
  if (filling && t.fillSince !== null && !t.fillVerified) {
    if (p - t.fillFrom >= LIMITS.inflationRiseMmHg.default) t.fillVerified = true;
    else if (now - t.fillSince > LIMITS.inflationVerifyS.default * MS_PER_S) {
      c.out.raise(
        'inflation-not-verified',
        `Zone ${c.zone} did not inflate (${p.toFixed(0)} mmHg after ${LIMITS.inflationVerifyS.default} s of pumping). A hose may be off, the garment may leak or the pump may have failed. The station was vented.`,
        c.zone,
      );
    }
  }
  return 'next';
}

/** The pump keeps topping up a held zone. */
function compensatedLeak(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const leaking =
    z.topUpInHoldMs > LIMITS.compensatedLeakS.default * MS_PER_S ||
    (z.leakRateMmHgPerMin ?? 0) > LIMITS.leakAlarmMmHgPerMin.default;
  if (z.command === 'hold' && leaking) {
    // Level-triggered while the hold lasts, so the alarm stays active; counted once per hold.
    if (!t.leakFlagged) {
      t.leakFlagged = true;
      c.leakAlarms++;
    }
    const stop = c.leakAlarms >= LIMITS.compensatedLeakLimit.default;
    c.out.raise(
      'compensated-leak',
      stop
        ? `Zone ${c.zone} keeps losing air (${c.leakAlarms} times this session). The session was stopped and the station vented; check the garment and its hose connection.`
        : `Zone ${c.zone} is losing air (the pump is making up ${Math.round(z.leakRateMmHgPerMin ?? 0)} mmHg/min while holding). Check the garment and its hose connection.`,
      c.zone,
      stop,
    );
  } else if (z.command !== 'hold') {
    t.leakFlagged = false;
  }
  return 'next';
}

/**
 * A held zone with its inlet shut that gains air while another zone's inlet is open: its inlet
 * valve leaks or is stuck open (the manifold is pushing air into it). Sustained, so a patient
 * moving (a bump of up to 2 s) is not taken for it.
 */
function sealedZoneGains(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p, now } = c;
  let othersFilling = false;
  const zones = c.obs.zones;
  for (let j = 0; j < zones.length; j++) if (j !== c.i && zones[j]?.inlet === true) othersFilling = true;
  const gaining =
    z.command === 'hold' && !z.inlet && othersFilling && p > z.setpointMmHg + LIMITS.sealedGainMmHg.default;
  if (!gaining) t.gainingSince = null;
  else t.gainingSince ??= now;
  if (gaining && t.gainingSince !== null && now - t.gainingSince >= LIMITS.sealedGainMs.default) {
    c.out.raise(
      'over-pressure',
      `Zone ${c.zone} gains air with its inlet valve shut (${p.toFixed(0)} mmHg for a set ${z.setpointMmHg.toFixed(0)}): the inlet valve leaks or is stuck open. The station was vented; the valve needs service.`,
      c.zone,
    );
  }
  return 'next';
}

/** A venting zone must fall below LIMITS.ventBelowMmHg within T. */
function ventNotVerified(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p, now } = c;
  const venting = z.command === 'vent' && !z.exhaust;
  if (!venting) {
    t.ventSince = null;
    t.ventVerified = false;
  } else t.ventSince ??= now;
  if (venting && p < LIMITS.ventBelowMmHg.default) t.ventVerified = true;
  if (venting && !t.ventVerified && t.ventSince !== null) {
    if (now - t.ventSince > LIMITS.ventVerifyS.default * MS_PER_S) {
      c.out.raise(
        'vent-not-verified',
        `Zone ${c.zone} does not deflate (still ${p.toFixed(0)} mmHg after ${LIMITS.ventVerifyS.default} s of venting): the exhaust is blocked or stuck. Open the garment's release or disconnect its hose now.`,
        c.zone,
      );
    }
  }
  return 'next';
}

/** A vented zone that reads high long after venting: drifting sensor or blocked exhaust. */
function ventedZoneReadsHigh(c: Check, z: ZoneObservation, t: ZoneTrack): ZoneVerdict {
  const { p, now } = c;
  const venting = z.command === 'vent' && !z.exhaust;
  if (venting && p < LIMITS.ventBelowMmHg.default) t.ventedSince ??= now;
  if (!venting) t.ventedSince = null;
  if (
    venting &&
    t.ventedSince !== null &&
    now - t.ventedSince > LIMITS.ventVerifyS.default * MS_PER_S &&
    p > LIMITS.idleMaxMmHg.default
  ) {
    c.out.raise(
      'sensor-implausible',
      `Zone ${c.zone} reads ${p.toFixed(0)} mmHg although it was vented: its sensor is drifting or the exhaust is blocked. The station was stopped.`,
      c.zone,
    );
  }
  return 'next';
}

/** Every zone rule, in order: the sensor's health first, so later rules judge a usable pressure. */
const ZONE_RULES: readonly ZoneRule[] = [
  sensorGivesNoReading,
  sensorStale,
  sensorHasValue,
  sensorOutOfRange,
  overPressure,
  sensorFrozen,
  inflationNotVerified,
  compensatedLeak,
  sealedZoneGains,
  ventNotVerified,
  ventedZoneReadsHigh,
];

// ---- station rules, in the order they run ----

function linkLost(c: Check): void {
  if (!c.obs.linkDown) return;
  c.out.raise(
    'link-lost',
    `Lost contact with this station's valves and sensors (${c.obs.linkDown}). The station was vented; check the I/O module's power and cable.`,
  );
}

/** Every zone through ZONE_RULES. */
function eachZone(c: Check, tracks: ZoneTrack[]): void {
  const zones = c.obs.zones;
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i] as ZoneObservation;
    const t = tracks[i] ?? (tracks[i] = newTrack(c.now));
    const fresh = z.sample.sampledAtMs > t.lastSampleAt;
    if (fresh) t.lastSampleAt = z.sample.sampledAtMs;
    c.i = i;
    c.zone = i + 1;
    c.fresh = fresh;
    c.p = Number.NaN;
    for (let r = 0; r < ZONE_RULES.length; r++) {
      if ((ZONE_RULES[r] as ZoneRule)(c, z, t) === 'skip-zone') break;
    }
  }
}

/** Pump against all-closed inlets: the manifold reaches the relief pressure in ~0.1 s. */
function pumpDeadHead(c: Check): void {
  let anyInlet = false;
  for (const z of c.obs.zones) if (z.inlet) anyInlet = true;
  if (c.obs.pumpOn && !anyInlet) c.deadHeadSince ??= c.now;
  else c.deadHeadSince = null;
  if (c.deadHeadSince !== null && c.now - c.deadHeadSince > LIMITS.deadHeadMs.default) {
    c.out.raise(
      'pump-dead-head',
      `The pump ran with every inlet valve shut for over ${LIMITS.deadHeadMs.default} ms. The station was vented; this is a controller or valve fault, call support.`,
    );
    c.deadHeadSince = null;
  }
}

function sessionTooLong(c: Check): void {
  const { sessionElapsedMs, sessionMaxMs } = c.obs;
  if (sessionElapsedMs === null || !(sessionElapsedMs > sessionMaxMs)) return;
  c.out.raise(
    'session-too-long',
    `The session ran past its maximum of ${Math.round(sessionMaxMs / 60_000)} minutes and was ended; the station was vented.`,
  );
}

/** Every station rule, in order; the trips come out in this order. */
const STATION_RULES: readonly StationRule[] = [linkLost, eachZone, pumpDeadHead, sessionTooLong];

/** Per-station supervisor state. One instance per station, for the life of the controller. */
export class StationSupervisor {
  private readonly tracks: ZoneTrack[];
  private readonly out = new TripList();
  private readonly c: Check;

  constructor(
    readonly stationId: string,
    zones: number,
    startMs: number,
  ) {
    this.tracks = Array.from({ length: zones }, () => newTrack(startMs));
    this.c = {
      obs: {
        nowMs: startMs,
        zones: [],
        pumpOn: false,
        ceilingMmHg: 0,
        sessionElapsedMs: null,
        sessionMaxMs: 0,
        linkDown: null,
        fillLimitMs: 0,
      },
      now: startMs,
      out: this.out,
      leakAlarms: 0,
      deadHeadSince: null,
      i: 0,
      zone: 1,
      fresh: false,
      p: Number.NaN,
    };
  }

  /** A new session starts: per-session counts start again. */
  sessionStarted(): void {
    this.c.leakAlarms = 0;
  }

  /**
   * This tick's trips, in rule order. The returned list (and its trips) is the same object every
   * tick, refilled: read it before the next call.
   */
  check(obs: StationObservation): readonly Trip[] {
    const c = this.c;
    c.obs = obs;
    c.now = obs.nowMs;
    this.out.clear();
    for (let r = 0; r < STATION_RULES.length; r++) (STATION_RULES[r] as StationRule)(c, this.tracks);
    return this.out.list;
  }
}
