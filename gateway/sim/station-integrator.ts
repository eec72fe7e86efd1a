/**
 * The fine-step integrator of one simulated station (station-model.ts describes the numerics): picks
 * each step's length, then per step spins the pump, opens the inlet paths, solves the manifold,
 * changes the awake chambers (chamber-model.ts) and lets slow zones sleep and catch up in long steps
 * of their own. Every function works on the station's one state record (station-state.ts).
 */
import { densityRatio } from './physics.js';
import type { Valve } from './valve.js';
import { applyOwnChange, ownChange, squeezed, updateTap } from './chamber-model.js';
import { bumpShape, scheduleNextBump } from './patient-bumps.js';
import type { StationState } from './station-state.js';

/** Below this relative speed a coasting pump motor counts as stopped (its flow is < 1e-4 mL/s). */
const PUMP_STOPPED_SPEED = 1e-6;
/**
 * Long steps (a quiet station, a sleeping zone) are at most this fraction of the chamber time
 * constant. They use Heun's method, whose global relative error is about fraction²/6 per time
 * constant elapsed: vent, leak and hold curves stay within ~0.1 % of 1 ms stepping (tested).
 */
const QUIET_STEP_TAU_FRACTION = 0.03;
/**
 * A long step may move a chamber's pressure at most this much, mmHg. It keeps the linear
 * extrapolation of a sleeping zone's readings between its updates within ~0.01 mmHg.
 */
const LONG_STEP_MAX_CHANGE_MMHG = 0.1;
/** Steps longer than this many fine steps use Heun's method for the chambers. */
const SECOND_ORDER_ABOVE_FINE_STEPS = 1.5;
/** Fine steps are at most this fraction of the fastest chamber time constant (stability only). */
const FINE_STEP_TAU_FRACTION = 0.5;
/** A zone only sleeps when its own step would be at least this many fine steps (else no gain). */
const SLEEP_MIN_STEP_FACTOR = 4;
/** Times closer than this are the same instant (ms); guards float round-off in step bookkeeping. */
const TIME_EPSILON_MS = 1e-9;

/** Integrates up to model time `tMs`. Earlier times are ignored (model time never goes back). */
export function advanceTo(s: StationState, tMs: number): void {
  if (!Number.isFinite(tMs)) throw new RangeError(`advanceTo: time must be finite, got ${tMs}`);
  const integ = s.params.integration;
  while (tMs - s.t > TIME_EPSILON_MS) {
    // One bump at a time: a bump that falls due during another starts when that one ends.
    if (s.nextBumpAt <= s.t + TIME_EPSILON_MS && s.bumpZone < 0) startBump(s);
    let h: number;
    if (integ.adaptive && isQuiet(s)) {
      h = Math.min(integ.maxQuietStepMs, s.minLongStepMs);
      // Never run a long step past the start of the next patient bump, nor past a sleeping
      // zone's own next step (it would then catch up in one step longer than it allows).
      if (s.nextBumpAt > s.t) h = Math.min(h, s.nextBumpAt - s.t);
      if (s.nextCatchUpAt > s.t) h = Math.min(h, s.nextCatchUpAt - s.t);
      h = Math.max(h, integ.stepMs);
    } else {
      h = Math.min(integ.stepMs, FINE_STEP_TAU_FRACTION * s.minTauMs);
    }
    const remaining = tMs - s.t;
    // Take the remainder when it is less than a step away, so no sliver step is left over.
    if (h >= remaining || remaining - h < TIME_EPSILON_MS) h = remaining;
    s.stepH = h;
    step(s);
  }
}

/** Pump stopped, every inlet shut, every valve settled, no relief flow, no bump: nothing fast can happen. */
function isQuiet(s: StationState): boolean {
  if (s.t < s.valvesSettleAt) return false;
  if (s.bumpZone >= 0) return false;
  if (s.pumpFactor > 0 && (s.speed > 0 || s.effDuty > 0)) return false;
  const relief = s.params.manifold.reliefMmHg;
  if (relief !== null && s.pm > relief) return false;
  for (let z = 0; z < s.zones; z++) {
    if (inletFraction(s, z, s.t) > 0) return false;
  }
  return true;
}

export function inletFraction(s: StationState, z: number, t: number): number {
  const stuck = s.faultFlags.inletStuck[z] ?? -1;
  return stuck >= 0 ? stuck : (s.inlets[z] as Valve).fractionAt(t);
}

export function exhaustFraction(s: StationState, z: number, t: number): number {
  const stuck = s.faultFlags.exhaustStuck[z] ?? -1;
  return stuck >= 0 ? stuck : (s.exhausts[z] as Valve).fractionAt(t);
}

/**
 * Whether zone z must follow the fine steps: its inlet is open at t (so it exchanges air with
 * the stiff manifold), a valve of it has been moving since t0, or a bump acts on it. Sleeping
 * zones are woken by the events that can make this true (a valve command, a fault change, a
 * bump), so it is only evaluated for awake zones.
 */
function zoneIsFast(s: StationState, z: number, t0: number, t: number): boolean {
  return (
    inletFraction(s, z, t) > 0 ||
    (s.inlets[z] as Valve).settleAt > t0 ||
    (s.exhausts[z] as Valve).settleAt > t0 ||
    z === s.bumpZone
  );
}

/**
 * Longest step zone z can take now: a small fraction of its time constant, and short enough
 * that its pressure moves at most LONG_STEP_MAX_CHANGE_MMHG (a chamber venting at hundreds of
 * mmHg/s is "flowing fast" and keeps 1 ms steps until the flow has slowed).
 */
function zoneStepMs(s: StationState, z: number): number {
  const rate = Math.abs(s.rate[z] ?? 0);
  const byRate = rate > 0 ? LONG_STEP_MAX_CHANGE_MMHG / rate : Number.POSITIVE_INFINITY;
  return Math.min(s.params.integration.maxQuietStepMs, QUIET_STEP_TAU_FRACTION * (s.tau[z] ?? 0), byRate);
}

function updateStepConstants(s: StationState): void {
  const h = s.stepH;
  // catchUp() swaps its own values in and restores these, so an unchanged h needs nothing.
  if (h === s.cachedH) return;
  const p = s.params;
  s.stepS = h / 1000;
  s.stepSecondOrder = h > p.integration.stepMs * SECOND_ORDER_ABOVE_FINE_STEPS;
  s.cachedH = h;
  s.decayPump = Math.exp(-h / p.pump.spinUpTauMs);
  s.stepSensorKeep = p.sensor.lagMs > 0 ? Math.exp(-h / p.sensor.lagMs) : 0;
  s.stepHeatLoss = 1 - Math.exp(-h / p.thermal.tauMs);
}

/**
 * Advances the model by `stepH` ms.
 *
 * Multi-rate: zones that exchange air with the manifold (inlet open) or have a valve in motion
 * take every step. A zone whose inlet is shut and whose valves have settled only leaks, vents or
 * cools, with time constants of seconds; it "sleeps" and catches up in long steps of its own
 * (zoneStepMs()). In a sequential cycle only one zone of eight is filling at a time, so this
 * makes an 8-zone station several times cheaper at the same accuracy (a test compares it with
 * `adaptive: false`).
 */
function step(s: StationState): void {
  // Split into phases that each get their own optimiser inlining budget (one huge function
  // stops inlining its small helpers, and then every double crossing a call is boxed).
  s.stepT0 = s.t;
  s.stepT1 = s.t + s.stepH;
  s.stepTMid = s.t + s.stepH / 2;
  updateStepConstants(s);
  spinPump(s);
  openInletPaths(s);
  flowManifold(s);
  changeChambers(s);
  applyChanges(s);
  tapAndSleep(s);
  s.t = s.stepT1;
  if (s.stepT1 >= s.nextCatchUpAt - TIME_EPSILON_MS) catchUpSleepers(s);
}

/** Pump motor speed: exact first-order response to the effective duty over the step (§7 τ_p). */
function spinPump(s: StationState): void {
  // A dead motor does not turn; revived, it spins up from where it has coasted down to.
  const target = s.pumpFactor > 0 ? s.effDuty : 0;
  s.speed = target + (s.speed - target) * s.decayPump;
  if (target === 0 && s.speed < PUMP_STOPPED_SPEED) s.speed = 0;
  if (s.effDuty > 0) s.pumpRunMs += s.stepH;
  s.stepQ0 = s.pumpFreeFlowMlS * s.pumpFactor * s.speed;
}

/**
 * Valve openings of the awake zones at mid-step, and the inlet path of each (sleeping zones have
 * their inlet shut). Density factors use the pressures at the start of the step (they change by
 * far less than 1 % per step).
 */
function openInletPaths(s: StationState): void {
  const tMid = s.stepTMid;
  const pmOld = s.pm;
  let nOpen = 0;
  let hiDown = 0;
  let loDown = 0;
  for (let i = 0; i < s.nAwake; i++) {
    const z = s.awake[i] ?? 0;
    const aIn = inletFraction(s, z, tMid);
    s.aIn[z] = aIn;
    s.aEx[z] = exhaustFraction(s, z, tMid);
    if (aIn > 0 && !s.faultFlags.blocked[z]) {
      // A disconnected hose blows the inlet's air straight out of its open end.
      const down = s.faultFlags.disconnected[z] ? 0 : (s.p[z] ?? 0);
      const ratio = densityRatio(pmOld > down ? pmOld : down);
      s.kInEff[z] = s.kInletFull * aIn * Math.sqrt(ratio);
      s.rInEff[z] = s.rTube / ratio;
      s.downIn[z] = down;
      if (down > hiDown) hiDown = down;
      if (down < loDown) loDown = down;
      s.openInlets[nOpen++] = z;
    } else {
      s.kInEff[z] = 0;
    }
  }
  s.nOpenInlets = nOpen;
  s.stepPmOld = pmOld;
  s.stepLoDown = loDown;
  s.stepHiDown = hiDown;
}

/**
 * Manifold: backward Euler, C_m·(P − P_old)/h = q_pump(P) − Σ q_inlet(P) − q_relief(P); then the
 * pump's delivery and the relief's blow-off at the solved pressure.
 */
function flowManifold(s: StationState): void {
  const pmOld = s.stepPmOld;
  const q0 = s.stepQ0;
  const relief = s.params.manifold.reliefMmHg;
  const m = s.manifold;
  if (s.nOpenInlets > 0 || q0 > 0 || (relief !== null && pmOld > relief)) {
    m.pmOld = pmOld;
    m.q0 = q0;
    m.stepS = s.stepS;
    m.loDown = s.stepLoDown;
    m.hiDown = s.stepHiDown;
    m.nOpenInlets = s.nOpenInlets;
    m.solve();
    s.pm = m.pm;
  }
  const pm = s.pm;
  m.trend = pm - pmOld;
  s.pumpQ = m.pumpCurve(q0, pm);
  s.reliefQ = m.reliefFlow(pm);
  if (s.reliefQ > 0) s.reliefOpenMs += s.stepH;
  s.ledgerData.pumpedMl += s.pumpQ * s.stepS;
  s.ledgerData.reliefMl += s.reliefQ * s.stepS;
}

/** Own changes of the awake chambers with the flows of the solved manifold. */
function changeChambers(s: StationState): void {
  let minTau = Number.POSITIVE_INFINITY;
  for (let i = 0; i < s.nAwake; i++) {
    const z = s.awake[i] ?? 0;
    ownChange(s, z);
    const tau = s.tau[z] ?? 0;
    if (tau < minTau) minTau = tau;
  }
  s.minTauMs = minTau;
}

/**
 * Applies own changes plus limb coupling: a neighbour's pressure change passes κ of itself on
 * through the shared tissue/shell (§7 "limb coupling"), whether the neighbour is awake or not.
 * Patient bumps add on top.
 */
function applyChanges(s: StationState): void {
  for (let i = 0; i < s.nAwake; i++) applyOwnChange(s, s.awake[i] ?? 0);
  if (s.bumpZone >= 0) {
    const bz = s.bumpZone;
    const t0 = s.stepT0;
    const t1 = s.stepT1;
    s.p[bz] = squeezed(s.p[bz] ?? 0, bumpShape(s, t1) - bumpShape(s, t0));
    if (t1 >= s.bumpStart + s.bumpDur) s.bumpZone = -1;
  }
}

/**
 * Sensor taps of the awake zones; zones that turned slow fall asleep. The own rate of change is
 * kept: it limits long steps and extrapolates a sleeper's readings between its updates.
 */
function tapAndSleep(s: StationState): void {
  const t0 = s.stepT0;
  const t1 = s.stepT1;
  const h = s.stepH;
  const integ = s.params.integration;
  const sleepFrom = SLEEP_MIN_STEP_FACTOR * integ.stepMs;
  let fellAsleep = false;
  let minLong = Number.POSITIVE_INFINITY;
  for (let i = 0; i < s.nAwake; i++) {
    const z = s.awake[i] ?? 0;
    updateTap(s, z);
    s.zoneT[z] = t1;
    s.rate[z] = (s.dOwn[z] ?? 0) / h;
    // A zone with an open inlet neither sleeps nor lets the station be quiet: skip the rest.
    if ((s.aIn[z] ?? 0) > 0) {
      minLong = 0;
      continue;
    }
    const long = zoneStepMs(s, z);
    if (long < minLong) minLong = long;
    // The valves must have rested for the whole step, so the rate is not a leftover of a moving
    // valve's last flow.
    if (integ.adaptive && long >= sleepFrom && !zoneIsFast(s, z, t0, t1)) {
      s.asleep[z] = 1;
      s.dueAt[z] = t1 + long;
      fellAsleep = true;
    }
  }
  s.minLongStepMs = minLong;
  if (fellAsleep) rebuildAwakeList(s);
}

/** Sleeping zones whose own step is due catch up to the end of this step. */
function catchUpSleepers(s: StationState): void {
  const t1 = s.stepT1;
  for (let z = 0; z < s.zones; z++) {
    if (s.asleep[z] && t1 >= (s.dueAt[z] ?? 0) - TIME_EPSILON_MS) catchUp(s, z, t1);
  }
  scheduleCatchUps(s);
}

/** Lists the awake zones in zone order (the order of summation stays fixed: same seed, same trace). */
function rebuildAwakeList(s: StationState): void {
  let k = 0;
  for (let z = 0; z < s.zones; z++) if (!s.asleep[z]) s.awake[k++] = z;
  s.nAwake = k;
  scheduleCatchUps(s);
}

/** Earliest time a sleeping zone's own step falls due. */
function scheduleCatchUps(s: StationState): void {
  let next = Number.POSITIVE_INFINITY;
  for (let z = 0; z < s.zones; z++) {
    if (!s.asleep[z]) continue;
    const due = s.dueAt[z] ?? 0;
    if (due < next) next = due;
  }
  s.nextCatchUpAt = next;
}

/** Brings sleeping zone z up to time tTo in one step of its own (its inlet is shut, valves settled). */
function catchUp(s: StationState, z: number, tTo: number): void {
  const dt = tTo - (s.zoneT[z] ?? tTo);
  if (dt <= TIME_EPSILON_MS) return;
  const tMid = (s.zoneT[z] ?? tTo) + dt / 2;
  s.aIn[z] = 0;
  s.kInEff[z] = 0;
  s.aEx[z] = exhaustFraction(s, z, tMid);
  // A sleeper's step differs from the fine step: swap in its own step constants.
  const hs = s.stepS;
  const heatLoss = s.stepHeatLoss;
  const keep = s.stepSensorKeep;
  const secondOrder = s.stepSecondOrder;
  const lagMs = s.params.sensor.lagMs;
  s.stepS = dt / 1000;
  s.stepSecondOrder = dt > s.params.integration.stepMs * SECOND_ORDER_ABOVE_FINE_STEPS;
  s.stepHeatLoss = 1 - Math.exp(-dt / s.params.thermal.tauMs);
  s.stepSensorKeep = lagMs > 0 ? Math.exp(-dt / lagMs) : 0;
  ownChange(s, z);
  applyOwnChange(s, z);
  updateTap(s, z, tTo);
  s.stepS = hs;
  s.stepHeatLoss = heatLoss;
  s.stepSensorKeep = keep;
  s.stepSecondOrder = secondOrder;
  s.rate[z] = (s.dOwn[z] ?? 0) / dt;
  s.zoneT[z] = tTo;
  s.dueAt[z] = tTo + zoneStepMs(s, z);
}

/** Brings a sleeping zone up to the current time and makes it follow the fine steps again. */
export function wake(s: StationState, z: number): void {
  if (!s.asleep[z]) return;
  catchUp(s, z, s.t);
  s.asleep[z] = 0;
  s.rate[z] = 0;
  // Its next step must be a fine one: what woke it may have made it fast.
  s.minLongStepMs = 0;
  rebuildAwakeList(s);
}

/** Wakes every zone (before a fault changes the physics under it). */
export function wakeAll(s: StationState): void {
  for (let z = 0; z < s.zones; z++) wake(s, z);
}

/** A value of zone z extrapolated from its last own update to the current time (sleeping zones lag by < 50 ms). */
export function extrapolated(s: StationState, z: number, value: number): number {
  return value + (s.rate[z] ?? 0) * (s.t - (s.zoneT[z] ?? s.t));
}

/** Starts a patient-movement bump (§7: +5–15 mmHg over 0.2–2 s) on a random zone. */
function startBump(s: StationState): void {
  const a = s.params.artefacts;
  const rng = s.artefactRng;
  s.bumpZone = Math.min(s.zones - 1, Math.floor(rng.next() * s.zones));
  wake(s, s.bumpZone);
  s.bumpStart = s.t;
  s.bumpAmp = rng.uniform(a.minMmHg, a.maxMmHg);
  s.bumpDur = rng.uniform(a.minMs, a.maxMs);
  s.nextBumpAt = scheduleNextBump(s, s.t);
}
