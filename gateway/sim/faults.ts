/**
 * Faults the simulator can inject: the catalogue (for the API and the dashboard), their types and
 * the validation of a fault request (it may come from an HTTP body, so nothing is trusted).
 *
 * The fault list follows the devices reference's "faults to inject" (hose disconnect, compensated
 * leak, blocked/kinked hose, stuck valve, drifting sensor, power loss) plus the bus faults of the
 * pneumatics reference §7 (NACK, stuck-at sensor, open wire).
 */

/** Which valve of a zone a stuck-valve fault acts on. */
export type ValveName = 'inlet' | 'exhaust';

/** What a fault attaches to: one zone, a whole station, either of those, or the whole world. */
export type FaultScope = 'zone' | 'station' | 'zone-or-station' | 'world';

export interface FaultKindInfo {
  readonly kind: string;
  readonly scope: FaultScope;
  /** true: changes the simulated air or sensor; false: a flag the simulated I/O layer acts on. */
  readonly physical: boolean;
  readonly description: string;
  /** Optional numeric/text parameters with their defaults. */
  readonly params: Readonly<Record<string, number | string>>;
}

/** Default extra leak of the 'leak' fault: §7's low end of the fault range (60–600 mmHg/min). */
export const DEFAULT_FAULT_LEAK_MMHG_PER_MIN = 60;
/** Default remaining flow of a 'pump-weak' pump (worn diaphragm or a failing motor). */
export const DEFAULT_WEAK_PUMP_FLOW_FACTOR = 0.3;
/** Default drift of 'sensor-drift', mmHg/s: fast enough that a plausibility check must catch it. */
export const DEFAULT_SENSOR_DRIFT_MMHG_PER_S = 2;

export const SIM_FAULT_KINDS = [
  {
    kind: 'leak',
    scope: 'zone',
    physical: true,
    description: 'Extra leak in the chamber, as a decay rate at 50 mmHg (worn bladder, loose connector).',
    params: { mmHgPerMin: DEFAULT_FAULT_LEAK_MMHG_PER_MIN },
  },
  {
    kind: 'hose-disconnected',
    scope: 'zone',
    physical: true,
    description: 'Hose off the garment: the chamber vents through the open port and the inlet blows to air.',
    params: {},
  },
  {
    kind: 'blocked-hose',
    scope: 'zone',
    physical: true,
    description:
      'Kinked or blocked hose: the chamber neither fills nor vents; the valve block sees the manifold.',
    params: {},
  },
  {
    kind: 'valve-stuck-open',
    scope: 'zone',
    physical: true,
    description: 'A valve stuck fully open whatever its coil does (default the inlet: filling cannot stop).',
    params: { valve: 'inlet' },
  },
  {
    kind: 'valve-stuck-closed',
    scope: 'zone',
    physical: true,
    description: 'A valve stuck shut whatever its coil does (default the exhaust: the chamber cannot vent).',
    params: { valve: 'exhaust' },
  },
  {
    kind: 'pump-dead',
    scope: 'station',
    physical: true,
    description: 'The pump delivers no air (motor, fuse or wiring failure).',
    params: {},
  },
  {
    kind: 'pump-weak',
    scope: 'station',
    physical: true,
    description: 'The pump delivers only a fraction of its flow (worn diaphragm, low supply voltage).',
    params: { flowFactor: DEFAULT_WEAK_PUMP_FLOW_FACTOR },
  },
  {
    kind: 'sensor-stuck',
    scope: 'zone',
    physical: true,
    description: 'The pressure sensor holds its last reading (stuck-at fault).',
    params: {},
  },
  {
    kind: 'sensor-drift',
    scope: 'zone',
    physical: true,
    description: 'The pressure sensor reading drifts away from the truth at a constant rate.',
    params: { mmHgPerS: DEFAULT_SENSOR_DRIFT_MMHG_PER_S },
  },
  {
    kind: 'sensor-disconnected',
    scope: 'zone',
    physical: true,
    description: 'The pressure sensor is unplugged (open wire): readings are not connected.',
    params: {},
  },
  {
    kind: 'i2c-nack',
    scope: 'zone-or-station',
    physical: false,
    description:
      "The zone's (or the whole station's) I2C devices stop acknowledging; the I/O layer fails reads.",
    params: {},
  },
  {
    kind: 'modbus-link-drop',
    scope: 'station',
    physical: false,
    description: "The station's Modbus link goes silent; the I/O layer times out every request.",
    params: {},
  },
  {
    kind: 'estop',
    scope: 'world',
    physical: false,
    description: 'The emergency-stop button is pressed (world-wide); the I/O layer reports the input.',
    params: {},
  },
] as const satisfies readonly FaultKindInfo[];

export type SimFaultKind = (typeof SIM_FAULT_KINDS)[number]['kind'];

/** A fault request as a caller writes it; omitted parameters take the defaults above. */
export type SimFault =
  | { kind: 'leak'; zone: number; mmHgPerMin?: number }
  | { kind: 'hose-disconnected'; zone: number }
  | { kind: 'blocked-hose'; zone: number }
  | { kind: 'valve-stuck-open'; zone: number; valve?: ValveName }
  | { kind: 'valve-stuck-closed'; zone: number; valve?: ValveName }
  | { kind: 'pump-dead' }
  | { kind: 'pump-weak'; flowFactor?: number }
  | { kind: 'sensor-stuck'; zone: number }
  | { kind: 'sensor-drift'; zone: number; mmHgPerS?: number }
  | { kind: 'sensor-disconnected'; zone: number }
  | { kind: 'i2c-nack'; zone?: number }
  | { kind: 'modbus-link-drop' }
  | { kind: 'estop' };

/** A validated fault with every parameter filled in. */
export type ResolvedFault =
  | { kind: 'leak'; zone: number; mmHgPerMin: number }
  | { kind: 'hose-disconnected'; zone: number }
  | { kind: 'blocked-hose'; zone: number }
  | { kind: 'valve-stuck-open'; zone: number; valve: ValveName }
  | { kind: 'valve-stuck-closed'; zone: number; valve: ValveName }
  | { kind: 'pump-dead' }
  | { kind: 'pump-weak'; flowFactor: number }
  | { kind: 'sensor-stuck'; zone: number }
  | { kind: 'sensor-drift'; zone: number; mmHgPerS: number }
  | { kind: 'sensor-disconnected'; zone: number }
  | { kind: 'i2c-nack'; zone?: number }
  | { kind: 'modbus-link-drop' }
  | { kind: 'estop' };

/** A fault in effect, with the model time it was injected. */
export type ActiveFault = ResolvedFault & { readonly sinceMs: number };

/** The flags the simulated I/O layer acts on (no physical effect in the model). */
export type SimFlagKind = 'i2c-nack' | 'modbus-link-drop' | 'estop';

/** A bad fault request; `message` says which field and why. */
export class SimFaultError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'SimFaultError';
  }
}

const INFO: ReadonlyMap<string, FaultKindInfo> = new Map(SIM_FAULT_KINDS.map((k) => [k.kind, k]));

/** The error for a fault kind the simulator does not know, listing the ones it does. */
export function unknownFaultKind(kind: unknown, what = 'fault kind'): SimFaultError {
  return new SimFaultError(
    `unknown ${what} ${JSON.stringify(kind)}; known: ${SIM_FAULT_KINDS.map((k) => k.kind).join(', ')}`,
  );
}

export function faultInfo(kind: SimFaultKind): FaultKindInfo {
  const info = INFO.get(kind);
  if (!info) throw unknownFaultKind(kind);
  return info;
}

export function isFaultKind(kind: unknown): kind is SimFaultKind {
  return typeof kind === 'string' && INFO.has(kind);
}

function numberParam(raw: Record<string, unknown>, key: string, def: number, lo: number, hi: number): number {
  const v = raw[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new SimFaultError(
      `${String(raw.kind)}.${key}: expected a number in [${lo}, ${hi}], got ${String(v)}`,
    );
  }
  return v;
}

function valveParam(raw: Record<string, unknown>, def: ValveName): ValveName {
  const v = raw.valve;
  if (v === undefined) return def;
  if (v !== 'inlet' && v !== 'exhaust') {
    throw new SimFaultError(`${String(raw.kind)}.valve: expected 'inlet' or 'exhaust', got ${String(v)}`);
  }
  return v;
}

/**
 * Validates a fault request against a station with `zones` zones (0-based zone numbers) and fills
 * in the defaults. Throws SimFaultError for an unknown kind, a missing/extra/out-of-range zone, an
 * unknown key or a bad parameter.
 */
export function parseFault(raw: unknown, zones: number): ResolvedFault {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SimFaultError('fault: expected an object with a "kind"');
  }
  const r = raw as Record<string, unknown>;
  if (!isFaultKind(r.kind)) {
    throw new SimFaultError(`fault.kind: ${unknownFaultKind(r.kind, 'kind').message}`);
  }
  const kind = r.kind;
  const info = faultInfo(kind);
  for (const key of Object.keys(r)) {
    if (key === 'kind') continue;
    if (key === 'zone' && (info.scope === 'zone' || info.scope === 'zone-or-station')) continue;
    if (key in info.params) continue;
    throw new SimFaultError(`${kind}: unexpected field '${key}'`);
  }
  let zone: number | undefined;
  if (r.zone !== undefined) {
    if (typeof r.zone !== 'number' || !Number.isInteger(r.zone) || r.zone < 0 || r.zone >= zones) {
      throw new SimFaultError(`${kind}.zone: expected an integer 0..${zones - 1}, got ${String(r.zone)}`);
    }
    zone = r.zone;
  } else if (info.scope === 'zone') {
    throw new SimFaultError(`${kind}: needs a zone (0..${zones - 1})`);
  }
  const z = zone ?? 0;
  switch (kind) {
    case 'leak':
      return {
        kind,
        zone: z,
        mmHgPerMin: numberParam(r, 'mmHgPerMin', DEFAULT_FAULT_LEAK_MMHG_PER_MIN, 0.01, 100000),
      };
    case 'hose-disconnected':
    case 'blocked-hose':
    case 'sensor-stuck':
    case 'sensor-disconnected':
      return { kind, zone: z };
    case 'valve-stuck-open':
      return { kind, zone: z, valve: valveParam(r, 'inlet') };
    case 'valve-stuck-closed':
      return { kind, zone: z, valve: valveParam(r, 'exhaust') };
    case 'pump-dead':
    case 'modbus-link-drop':
    case 'estop':
      return { kind };
    case 'pump-weak':
      return { kind, flowFactor: numberParam(r, 'flowFactor', DEFAULT_WEAK_PUMP_FLOW_FACTOR, 0, 1) };
    case 'sensor-drift':
      return {
        kind,
        zone: z,
        mmHgPerS: numberParam(r, 'mmHgPerS', DEFAULT_SENSOR_DRIFT_MMHG_PER_S, -100, 100),
      };
    case 'i2c-nack':
      return zone === undefined ? { kind } : { kind, zone };
  }
}

/** Key under which a fault is stored: re-injecting the same kind on the same target replaces it. */
export function faultKey(f: ResolvedFault): string {
  // A valve is either stuck open or stuck closed, so both kinds share the valve's key.
  if (f.kind === 'valve-stuck-open' || f.kind === 'valve-stuck-closed')
    return `valve-stuck@${f.zone}:${f.valve}`;
  return 'zone' in f && f.zone !== undefined ? `${f.kind}@${f.zone}` : f.kind;
}
