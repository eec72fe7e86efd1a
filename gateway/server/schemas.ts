/** Request pieces several route files share. Numbers come from limits.ts and bounds.ts only. */
import Type from 'typebox';
import { PROGRAM_BOUNDS } from '../control-loop/programs/bounds.js';
import { LIMITS, MAX_ZONES } from '../limits.js';

export const StationIdSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
  description: 'station id from the board config, e.g. bay-1',
});
export const StationParamsSchema = Type.Object({ id: StationIdSchema }, { additionalProperties: false });

export const ProgramIdSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,47}$',
  description: 'lower-case letters, digits and dashes',
});

export const PressureSchema = Type.Number({
  minimum: PROGRAM_BOUNDS.pressureMmHg.min,
  maximum: PROGRAM_BOUNDS.pressureMmHg.max,
  description: '[mmHg] base (most distal) target; the controller clamps to the station and garment ceilings',
});
export const DurationSchema = Type.Integer({
  minimum: LIMITS.sessionMaxMin.min,
  maximum: LIMITS.sessionMaxMin.max,
  description: '[min] session length',
});
export const ZoneListSchema = Type.Array(Type.Integer({ minimum: 1, maximum: MAX_ZONES }), {
  uniqueItems: true,
  maxItems: MAX_ZONES,
  description: '1-based zone numbers, 1 = most distal',
});

export const OkSchema = Type.Object({ ok: Type.Boolean() });
