/**
 * The safety supervisor: rules checked every tick, before any output is computed or written.
 * Pure logic: it sees what the sensors said and what was written last tick, and returns trips.
 * The station vents in the same tick a venting trip is returned.
 *
 * Every threshold comes from LIMITS (gateway/limits.ts), which docs/safety.md prints.
 */
import type { PressureSample } from '../drivers/io.js';
import { LIMITS } from '../limits.js';
import { tripOf } from '../alarm-table.js';
import type { AlarmCode, AlarmPriority } from '../protocol.js';
import type { LateVerdict } from './late-tick.js';
import type { ZoneCommandKind } from './regulator.js';

export interface Trip {
  code: AlarmCode;
  priority: AlarmPriority;
  /** 1-based. */
  zone?: number;
  reason: string;
  /** Vents the station (or every station, for board trips) and latches it in fault. */
  vent: boolean;
}

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
 * The over-pressure trip level of a zone: min(setpoint + margin, ceiling) during a session, the
 * margin alone without one (pneumatics reference §8). Exported for the bench's trip trace, which
 * must time the crossing of exactly this level.
 */
export function overPressureLimitMmHg(setpointMmHg: number, ceilingMmHg: number): number {
  return setpointMmHg > 0
    ? Math.min(setpointMmHg + LIMITS.tripMarginMmHg.default, ceilingMmHg)
    : LIMITS.tripMarginMmHg.default;
}

/** Per-station supervisor state. One instance per station, for the life of the controller. */
export class StationSupervisor {
  private tracks: ZoneTrack[] = [];
  private deadHeadSince: number | null = null;
  private leakAlarms = 0;

  constructor(
    readonly stationId: string,
    zones: number,
    startMs: number,
  ) {
    this.tracks = Array.from({ length: zones }, () => newTrack(startMs));
  }

  /** A new session starts: per-session counts start again. */
  sessionStarted(): void {
    this.leakAlarms = 0;
  }

  check(obs: StationObservation): Trip[] {
    const trips: Trip[] = [];
    const now = obs.nowMs;

    if (obs.linkDown) {
      trips.push(
        tripOf(
          'link-lost',
          `Lost contact with this station's valves and sensors (${obs.linkDown}). The station was vented; check the I/O module's power and cable.`,
        ),
      );
    }

    obs.zones.forEach((z, i) => {
      const t = this.tracks[i] ?? (this.tracks[i] = newTrack(now));
      const zone = i + 1;
      const s = z.sample;
      const fresh = s.sampledAtMs > t.lastSampleAt;
      if (fresh) t.lastSampleAt = s.sampledAtMs;

      // Sensor health: read errors, staleness, range.
      if (s.health === 'error') t.errors++;
      else t.errors = 0;
      if (t.errors >= LIMITS.sensorErrorTicks.default) {
        trips.push(
          tripOf(
            'sensor-implausible',
            `The zone ${zone} pressure sensor gives no reading (${s.detail ?? 'read error'}). The station was vented; check the sensor and its cable.`,
            { zone },
          ),
        );
        return;
      }
      const staleFor = (obs.sampledFromMs ?? now) - t.lastSampleAt;
      if (staleFor > LIMITS.sensorStaleMs.default) {
        trips.push(
          tripOf(
            'sensor-implausible',
            `The zone ${zone} pressure sensor has given no new value for ${Math.round(staleFor)} ms. The station was vented.`,
            { zone },
          ),
        );
        return;
      }
      if (s.health !== 'ok' || !Number.isFinite(s.mmHg)) return;
      const p = s.mmHg;
      if (fresh) {
        const bad = p < LIMITS.sensorMinMmHg.default || p > LIMITS.sensorMaxMmHg.default;
        t.outOfRange = bad ? t.outOfRange + 1 : 0;
      }
      if (t.outOfRange >= 2) {
        trips.push(
          tripOf(
            'sensor-implausible',
            `The zone ${zone} pressure sensor reads ${p.toFixed(0)} mmHg, which is impossible here. The station was vented; the sensor or its wiring is faulty.`,
            { zone },
          ),
        );
        return;
      }

      // Over-pressure: above min(setpoint + margin, ceiling) on 2 consecutive fresh samples, or on
      // one fresh sample far above it (docs/safety.md: the hard level).
      const limit = overPressureLimitMmHg(z.setpointMmHg, obs.ceilingMmHg);
      if (fresh) t.over = p > limit ? t.over + 1 : 0;
      const hard = fresh && p > limit + LIMITS.tripHardMarginMmHg.default;
      if (t.over >= 2 || hard) {
        trips.push(
          tripOf(
            'over-pressure',
            `Zone ${zone} reached ${p.toFixed(0)} mmHg, above its limit of ${limit.toFixed(0)} mmHg. The station was vented at once.`,
            { zone },
          ),
        );
      }

      // Frozen sensor: not one change while the chamber should be filling or venting.
      const shouldMove =
        (z.inlet && obs.pumpOn) || (!z.exhaust && Math.abs(p) > LIMITS.ventBelowMmHg.default);
      if (fresh && (p !== t.sameValue || !shouldMove)) {
        t.sameValue = p;
        t.sameSince = now;
      } else if (fresh && now - t.sameSince >= LIMITS.sensorStuckMs.default) {
        trips.push(
          tripOf(
            'sensor-implausible',
            `The zone ${zone} pressure reading is frozen at ${p.toFixed(1)} mmHg while the chamber should be changing. The station was vented; the sensor is faulty.`,
            { zone },
          ),
        );
      }

      // Inflation verified: a fill must raise the zone by X within T (Klipper's verify_heater),
      // and reach its pressure within the program's longest fill. Timed from the fill command,
      // not from the inlet opening: a fill that never gets the pump is not verified either.
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
        trips.push(
          tripOf(
            'inflation-not-verified',
            `Zone ${zone} did not reach its pressure within ${Math.round(obs.fillLimitMs / MS_PER_S)} s (${p.toFixed(0)} of ${z.setpointMmHg.toFixed(0)} mmHg). A hose may be off, the garment may leak or the pump may be failing. The station was vented.`,
            { zone },
          ),
        );
      }
      if (filling && t.fillSince !== null && !t.fillVerified) {
        if (p - t.fillFrom >= LIMITS.inflationRiseMmHg.default) t.fillVerified = true;
        else if (now - t.fillSince > LIMITS.inflationVerifyS.default * MS_PER_S) {
          trips.push(
            tripOf(
              'inflation-not-verified',
              `Zone ${zone} did not inflate (${p.toFixed(0)} mmHg after ${LIMITS.inflationVerifyS.default} s of pumping). A hose may be off, the garment may leak or the pump may have failed. The station was vented.`,
              { zone },
            ),
          );
        }
      }

      // Compensated leak: the pump keeps topping up a held zone.
      const leaking =
        z.topUpInHoldMs > LIMITS.compensatedLeakS.default * MS_PER_S ||
        (z.leakRateMmHgPerMin ?? 0) > LIMITS.leakAlarmMmHgPerMin.default;
      if (z.command === 'hold' && leaking) {
        // Level-triggered while the hold lasts, so the alarm stays active; counted once per hold.
        if (!t.leakFlagged) {
          t.leakFlagged = true;
          this.leakAlarms++;
        }
        {
          const stop = this.leakAlarms >= LIMITS.compensatedLeakLimit.default;
          trips.push(
            tripOf(
              'compensated-leak',
              stop
                ? `Zone ${zone} keeps losing air (${this.leakAlarms} times this session). The session was stopped and the station vented; check the garment and its hose connection.`
                : `Zone ${zone} is losing air (the pump is making up ${Math.round(z.leakRateMmHgPerMin ?? 0)} mmHg/min while holding). Check the garment and its hose connection.`,
              { zone, repeatVents: stop },
            ),
          );
        }
      } else if (z.command !== 'hold') {
        t.leakFlagged = false;
      }

      // A held zone with its inlet shut that gains air while another zone's inlet is open: its
      // inlet valve leaks or is stuck open (the manifold is pushing air into it). Sustained, so a
      // patient moving (a bump of up to 2 s) is not taken for it.
      const othersFilling = obs.zones.some((o, j) => j !== i && o.inlet);
      const gaining =
        z.command === 'hold' &&
        !z.inlet &&
        othersFilling &&
        p > z.setpointMmHg + LIMITS.sealedGainMmHg.default;
      if (!gaining) t.gainingSince = null;
      else t.gainingSince ??= now;
      if (gaining && t.gainingSince !== null && now - t.gainingSince >= LIMITS.sealedGainMs.default) {
        trips.push(
          tripOf(
            'over-pressure',
            `Zone ${zone} gains air with its inlet valve shut (${p.toFixed(0)} mmHg for a set ${z.setpointMmHg.toFixed(0)}): the inlet valve leaks or is stuck open. The station was vented; the valve needs service.`,
            { zone },
          ),
        );
      }

      // Vent verified: a venting zone must fall below 10 mmHg within T.
      const venting = z.command === 'vent' && !z.exhaust;
      if (!venting) {
        t.ventSince = null;
        t.ventVerified = false;
      } else t.ventSince ??= now;
      if (venting && p < LIMITS.ventBelowMmHg.default) t.ventVerified = true;
      if (venting && !t.ventVerified && t.ventSince !== null) {
        if (now - t.ventSince > LIMITS.ventVerifyS.default * MS_PER_S) {
          trips.push(
            tripOf(
              'vent-not-verified',
              `Zone ${zone} does not deflate (still ${p.toFixed(0)} mmHg after ${LIMITS.ventVerifyS.default} s of venting): the exhaust is blocked or stuck. Open the garment's release or disconnect its hose now.`,
              { zone },
            ),
          );
        }
      }
      // A vented zone that reads high long after venting: drifting sensor or blocked exhaust.
      if (venting && p < LIMITS.ventBelowMmHg.default) t.ventedSince ??= now;
      if (!venting) t.ventedSince = null;
      if (
        venting &&
        t.ventedSince !== null &&
        now - t.ventedSince > LIMITS.ventVerifyS.default * MS_PER_S &&
        p > LIMITS.idleMaxMmHg.default
      ) {
        trips.push(
          tripOf(
            'sensor-implausible',
            `Zone ${zone} reads ${p.toFixed(0)} mmHg although it was vented: its sensor is drifting or the exhaust is blocked. The station was stopped.`,
            { zone },
          ),
        );
      }
    });

    // Pump against all-closed inlets: the manifold reaches the relief pressure in ~0.1 s.
    const anyInlet = obs.zones.some((z) => z.inlet);
    if (obs.pumpOn && !anyInlet) this.deadHeadSince ??= now;
    else this.deadHeadSince = null;
    if (this.deadHeadSince !== null && now - this.deadHeadSince > LIMITS.deadHeadMs.default) {
      trips.push(
        tripOf(
          'pump-dead-head',
          `The pump ran with every inlet valve shut for over ${LIMITS.deadHeadMs.default} ms. The station was vented; this is a controller or valve fault, call support.`,
        ),
      );
      this.deadHeadSince = null;
    }

    if (obs.sessionElapsedMs !== null && obs.sessionElapsedMs > obs.sessionMaxMs) {
      trips.push(
        tripOf(
          'session-too-long',
          `The session ran past its maximum of ${Math.round(obs.sessionMaxMs / 60_000)} minutes and was ended; the station was vented.`,
        ),
      );
    }
    return trips;
  }
}

/**
 * Board-wide rules: the emergency stop and the late-tick rule's stall concern every station.
 * `late` is the late-tick rule's verdict on this tick (late-tick.ts); only a stall vents.
 */
export function checkBoard(input: {
  estopPressed: boolean;
  late: LateVerdict;
  cause: string | null;
}): Trip[] {
  const trips: Trip[] = [];
  if (input.estopPressed) {
    trips.push(
      tripOf(
        'emergency-stop',
        'The emergency stop is pressed. Every station was vented. Release the button, then acknowledge.',
      ),
    );
  }
  const late = input.late;
  if (late.kind === 'stall') {
    const what =
      late.why === 'hard-bound'
        ? `stalled for ${late.latenessMs.toFixed(0)} ms (the limit is ${LIMITS.loopLateHardMs.default} ms)`
        : `was late ${late.lateInWindow} times within a minute (this time ${late.latenessMs.toFixed(0)} ms)`;
    trips.push(
      tripOf(
        'loop-stall',
        `The control loop ${what}${input.cause ? `; ${input.cause}` : ''}. Every station was vented as a precaution; acknowledge to continue, and tell support if it repeats.`,
      ),
    );
  }
  return trips;
}
