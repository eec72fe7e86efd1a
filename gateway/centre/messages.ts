/**
 * Topics of a centre and the reading of what arrives on them. Everything from the broker is
 * untrusted: a message is read only when its topic is one of ours, its payload is at most
 * MAX_PAYLOAD_BYTES, is JSON and matches its schema; anything else comes back as `{ problem }`
 * naming the topic and what was wrong, for the caller to log and drop.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { schemaProblems } from '../config-check.js';
import {
  MAX_PAYLOAD_BYTES,
  StatePayloadSchema,
  StatusPayloadSchema,
  StopPayloadSchema,
  type StatePayload,
  type StatusPayload,
  type StopPayload,
} from './schemas.js';

export const TOPIC_ROOT = 'presso';

export const topics = (centreId: string, gatewayId: string) => {
  const base = `${TOPIC_ROOT}/${centreId}/${gatewayId}`;
  return {
    status: `${base}/status`,
    alarms: `${base}/alarms`,
    sessions: `${base}/sessions`,
    state: (stationId: string) => `${base}/stations/${stationId}/state`,
    /** Another gateway's station (the topic a centre STOP is published on). */
    stopOf: (gateway: string, stationId: string) =>
      `${TOPIC_ROOT}/${centreId}/${gateway}/stations/${stationId}/stop`,
    /** What a gateway subscribes to: everyone's status and states, and STOPs for its own stations. */
    subscriptions: [
      `${TOPIC_ROOT}/${centreId}/+/status`,
      `${TOPIC_ROOT}/${centreId}/+/stations/+/state`,
      `${base}/stations/+/stop`,
    ],
  };
};

export type Incoming =
  | { kind: 'status'; gatewayId: string; payload: StatusPayload }
  | { kind: 'state'; gatewayId: string; stationId: string; payload: StatePayload }
  /** An empty retained state: the station is gone (docs/centre.md, removing a station). */
  | { kind: 'state-cleared'; gatewayId: string; stationId: string }
  | { kind: 'stop'; gatewayId: string; stationId: string; payload: StopPayload }
  | { kind: 'ignored' }
  | { kind: 'bad'; problem: string };

const checks = {
  status: Compile(StatusPayloadSchema),
  state: Compile(StatePayloadSchema),
  stop: Compile(StopPayloadSchema),
};

function parse<T>(
  topic: string,
  payload: Buffer,
  check: { Check(v: unknown): boolean },
  schema: TSchema,
): { ok: T } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { problem: `${topic}: payload is not JSON (${(e as Error).message})` };
  }
  if (check.Check(value)) return { ok: value as T };
  const first = schemaProblems(schema, value, 'payload')[0];
  return { problem: `${topic}: ${first ? `${first.path} ${first.problem}` : 'does not match its schema'}` };
}

/** Reads one message of centre `centreId`. */
export function readMessage(centreId: string, topic: string, payload: Buffer): Incoming {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return {
      kind: 'bad',
      problem: `${topic}: payload of ${payload.length} bytes (at most ${MAX_PAYLOAD_BYTES})`,
    };
  }
  const parts = topic.split('/');
  if (parts[0] !== TOPIC_ROOT || parts[1] !== centreId) return { kind: 'ignored' };
  const gatewayId = parts[2] ?? '';
  if (parts.length === 4 && parts[3] === 'status') {
    const r = parse<StatusPayload>(topic, payload, checks.status, StatusPayloadSchema);
    if ('problem' in r) return { kind: 'bad', problem: r.problem };
    if (r.ok.gatewayId !== gatewayId)
      return { kind: 'bad', problem: `${topic}: gatewayId "${r.ok.gatewayId}" is not the topic's` };
    return { kind: 'status', gatewayId, payload: r.ok };
  }
  if (parts.length === 6 && parts[3] === 'stations') {
    const stationId = parts[4] ?? '';
    if (parts[5] === 'state') {
      if (payload.length === 0) return { kind: 'state-cleared', gatewayId, stationId };
      const r = parse<StatePayload>(topic, payload, checks.state, StatePayloadSchema);
      if ('problem' in r) return { kind: 'bad', problem: r.problem };
      if (r.ok.gatewayId !== gatewayId || r.ok.id !== stationId)
        return { kind: 'bad', problem: `${topic}: gatewayId or id does not match the topic` };
      return { kind: 'state', gatewayId, stationId, payload: r.ok };
    }
    if (parts[5] === 'stop') {
      const r = parse<StopPayload>(topic, payload, checks.stop, StopPayloadSchema);
      if ('problem' in r) return { kind: 'bad', problem: r.problem };
      return { kind: 'stop', gatewayId, stationId, payload: r.ok };
    }
  }
  return { kind: 'ignored' };
}
