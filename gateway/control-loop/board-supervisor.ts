/**
 * The board-wide rules: the emergency stop and the late-tick rule's stall concern every station,
 * and a venting board trip vents them all. Checked every tick before any station's rules.
 */
import { LIMITS } from '../limits.js';
import type { LateVerdict } from './late-tick.js';
import { TripList, type Trip } from './trips.js';

/** What the board rules see each tick. */
export interface BoardObservation {
  estopPressed: boolean;
  /** The late-tick rule's verdict on this tick (late-tick.ts); only a stall vents. */
  late: LateVerdict;
  /** What the process did during a late tick's gap, in words (lateness-cause.ts). */
  cause: string | null;
}

type BoardRule = (b: BoardObservation, out: TripList) => void;

function emergencyStop(b: BoardObservation, out: TripList): void {
  if (!b.estopPressed) return;
  out.raise(
    'emergency-stop',
    'The emergency stop is pressed. Every station was vented. Release the button, then acknowledge.',
  );
}

function loopStall(b: BoardObservation, out: TripList): void {
  const late = b.late;
  if (late.kind !== 'stall') return;
  const what =
    late.why === 'hard-bound'
      ? `stalled for ${late.latenessMs.toFixed(0)} ms (the limit is ${LIMITS.loopLateHardMs.default} ms)`
      : `was late ${late.lateInWindow} times within a minute (this time ${late.latenessMs.toFixed(0)} ms)`;
  out.raise(
    'loop-stall',
    `The control loop ${what}${b.cause ? `; ${b.cause}` : ''}. Every station was vented as a precaution; acknowledge to continue, and tell support if it repeats.`,
  );
}

const BOARD_RULES: readonly BoardRule[] = [emergencyStop, loopStall];

/** The board-wide rules, one instance per controller. Like StationSupervisor, its list is refilled each tick. */
export class BoardSupervisor {
  private readonly out = new TripList();

  check(obs: BoardObservation): readonly Trip[] {
    this.out.clear();
    for (let r = 0; r < BOARD_RULES.length; r++) (BOARD_RULES[r] as BoardRule)(obs, this.out);
    return this.out.list;
  }
}
