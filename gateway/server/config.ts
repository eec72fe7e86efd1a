/**
 * The web process's settings: defaults, then an optional JSON file, then environment variables
 * (env wins, so pm2/systemd can override one value without editing the file).
 *
 * HOST defaults to 127.0.0.1: a fresh gateway must not expose pump commands to the whole LAN
 * before someone has set an admin password or token. Set HOST=0.0.0.0 (or "host" in the file)
 * to serve the wall tablets and lounge stations.
 *
 * Everything a process owns on disk (store file, controller socket) lives under dataDir, so two
 * gateways on one machine with different ports and data dirs share nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { schemaProblems } from '../config-check.js';
import { ConfigError } from '../config-error.js';
import { controllerSocketPath } from '../paths.js';
import type { CentreSettings } from '../centre/link.js';
import { MQTT_ID_PATTERN } from '../centre/ids.js';

export { ConfigError };

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
/** A staff login lasts one shift; after that the tablet asks for the PIN again. */
export const DEFAULT_LOGIN_TTL_MIN = 8 * 60;
/**
 * Login attempts per address and minute. This alone does not bound guessing (a LAN offers many
 * addresses); the per-user lockout in plugins/auth.ts does (docs/security.md has the arithmetic).
 */
export const DEFAULT_LOGIN_ATTEMPTS_PER_MIN = 5;
/** Staff PINs: 6 digits unless an admin opts in to 4 (docs/security.md: guessing time). */
export const DEFAULT_MIN_PIN_DIGITS = 6;
/** Live connections (Socket.IO) per client address and in total: a board, a few tablets, lounge pages. */
export const DEFAULT_MAX_SOCKETS_PER_ADDRESS = 8;
export const DEFAULT_MAX_SOCKETS = 64;
/** The centre's MQTT keep-alive: a gateway that dies is shown offline within 1.5 × this. */
export const DEFAULT_MQTT_KEEPALIVE_S = 10;
export const DEFAULT_MQTT_RECONNECT_MAX_MS = 10_000;
export const DEFAULT_CENTRE_ID = 'default';

const MqttId = Type.String({ pattern: MQTT_ID_PATTERN });
/** The centre's broker (docs/centre.md); no url = no MQTT. */
const CentreFileSchema = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    certFile: Type.Optional(Type.String({ minLength: 1 })),
    keyFile: Type.Optional(Type.String({ minLength: 1 })),
    gatewayId: Type.Optional(MqttId),
    centreId: Type.Optional(MqttId),
    keepaliveS: Type.Optional(Type.Integer({ minimum: 2, maximum: 600 })),
    reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 500, maximum: 300_000 })),
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://', maxLength: 300 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    host: Type.Optional(Type.String({ minLength: 1 })),
    dataDir: Type.Optional(Type.String({ minLength: 1 })),
    controllerSocket: Type.Optional(Type.String({ minLength: 1 })),
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    loginTtlMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 })),
    loginAttemptsPerMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    minPinDigits: Type.Optional(Type.Integer({ minimum: 4, maximum: 8 })),
    allowedHosts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 64, uniqueItems: true }),
    ),
    maxSocketsPerAddress: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    maxSockets: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    centre: Type.Optional(CentreFileSchema),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  controllerSocket: string;
  /** Bearer token with the admin role (PRESSO_ADMIN_TOKEN); unset = no token login. */
  adminToken?: string;
  loginTtlMin: number;
  loginAttemptsPerMin: number;
  /**
   * The gateway's name on the LAN (PRESSO_HOSTNAME, e.g. presso.local: set by the installer,
   * announced by avahi, named in the HTTPS certificate). Unset on a workstation.
   */
  hostname?: string;
  /** Fewest digits a staff PIN may have (4 only when an admin opts in). */
  minPinDigits: number;
  /**
   * Host names and addresses the gateway answers to, on top of the defaults (localhost, loopback,
   * this machine's names and interface addresses; request-guard.ts). Anything else is refused,
   * which is what defeats DNS rebinding.
   */
  allowedHosts: string[];
  maxSocketsPerAddress: number;
  maxSockets: number;
  /** The centre's MQTT broker (PRESSO_MQTT_URL …); absent = this gateway is on its own. */
  centre?: CentreSettings;
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

/** Reads the file named by PRESSO_SERVER_CONFIG, else `<dataDir>/server.json` when present. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const envDataDir = env.PRESSO_DATA_DIR || undefined;
  const explicitFile = env.PRESSO_SERVER_CONFIG || undefined;
  const file = explicitFile ?? join(envDataDir ?? './data', 'server.json');
  let fromFile: ConfigFile = {};
  if (explicitFile !== undefined || existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(file, `cannot read the settings file: ${(e as Error).message}`);
    }
    const first = schemaProblems(ConfigFileSchema, raw, file)[0];
    if (first) throw new ConfigError(first.path, first.problem);
    fromFile = raw as ConfigFile;
  }
  const dataDir = resolve(envDataDir ?? fromFile.dataDir ?? './data');
  const token = env.PRESSO_ADMIN_TOKEN || fromFile.adminToken;
  const hostname = env.PRESSO_HOSTNAME || fromFile.hostname;
  if (token !== undefined && token.length < 16) {
    throw new ConfigError('PRESSO_ADMIN_TOKEN', 'must be at least 16 characters (it grants the admin role)');
  }
  return {
    port: envInt(env, 'PORT', 0, 65535) ?? fromFile.port ?? DEFAULT_PORT,
    host: env.HOST || fromFile.host || DEFAULT_HOST,
    dataDir,
    controllerSocket:
      env.PRESSO_CONTROLLER_SOCKET || fromFile.controllerSocket
        ? resolve((env.PRESSO_CONTROLLER_SOCKET || fromFile.controllerSocket) as string)
        : controllerSocketPath({ PRESSO_DATA_DIR: dataDir }),
    ...(token !== undefined ? { adminToken: token } : {}),
    ...(hostname !== undefined ? { hostname } : {}),
    loginTtlMin: fromFile.loginTtlMin ?? DEFAULT_LOGIN_TTL_MIN,
    loginAttemptsPerMin:
      envInt(env, 'PRESSO_LOGIN_ATTEMPTS_PER_MIN', 1, 1000) ??
      fromFile.loginAttemptsPerMin ??
      DEFAULT_LOGIN_ATTEMPTS_PER_MIN,
    minPinDigits:
      envInt(env, 'PRESSO_MIN_PIN_DIGITS', 4, 8) ?? fromFile.minPinDigits ?? DEFAULT_MIN_PIN_DIGITS,
    allowedHosts: [...(fromFile.allowedHosts ?? []), ...envList(env, 'PRESSO_ALLOWED_HOSTS')],
    maxSocketsPerAddress:
      envInt(env, 'PRESSO_MAX_SOCKETS_PER_ADDRESS', 1, 1000) ??
      fromFile.maxSocketsPerAddress ??
      DEFAULT_MAX_SOCKETS_PER_ADDRESS,
    maxSockets: envInt(env, 'PRESSO_MAX_SOCKETS', 1, 10_000) ?? fromFile.maxSockets ?? DEFAULT_MAX_SOCKETS,
    ...centreSettings(env, fromFile.centre ?? {}),
  };
}

/**
 * PRESSO_MQTT_URL, PRESSO_MQTT_USERNAME, PRESSO_MQTT_PASSWORD, PRESSO_MQTT_CA, PRESSO_MQTT_CERT,
 * PRESSO_MQTT_KEY, PRESSO_GATEWAY_ID (default: the host name), PRESSO_CENTRE_ID (default
 * "default"), PRESSO_MQTT_KEEPALIVE_S, PRESSO_MQTT_RECONNECT_MAX_MS, PRESSO_PUBLIC_URL,
 * PRESSO_GATEWAY_NAME; or the same under "centre" in the settings file.
 */
function centreSettings(
  env: NodeJS.ProcessEnv,
  file: Static<typeof CentreFileSchema>,
): { centre?: CentreSettings } {
  const url = env.PRESSO_MQTT_URL || file.url;
  if (url === undefined) return {};
  if (!/^mqtts?:\/\/[^/\s]+/.test(url)) {
    throw new ConfigError('PRESSO_MQTT_URL', `must be mqtt://host:port or mqtts://host:port, got "${url}"`);
  }
  const id = (name: string, value: string | undefined) => {
    if (value !== undefined && !new RegExp(MQTT_ID_PATTERN).test(value)) {
      throw new ConfigError(
        name,
        `"${value}" must be 1–64 letters, digits, ".", "_" or "-" (it is an MQTT topic level)`,
      );
    }
    return value;
  };
  // A host name may hold characters a topic level may not ("pi 4"): those become "-".
  const gatewayId =
    id('PRESSO_GATEWAY_ID', env.PRESSO_GATEWAY_ID || undefined) ??
    file.gatewayId ??
    (osHostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 64) ||
      'gateway');
  const centreId =
    id('PRESSO_CENTRE_ID', env.PRESSO_CENTRE_ID || undefined) ?? file.centreId ?? DEFAULT_CENTRE_ID;
  const publicUrl = env.PRESSO_PUBLIC_URL || file.publicUrl;
  if (publicUrl !== undefined && !/^https?:\/\//.test(publicUrl)) {
    throw new ConfigError('PRESSO_PUBLIC_URL', `must start with http:// or https://, got "${publicUrl}"`);
  }
  const opt = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const username = opt(env.PRESSO_MQTT_USERNAME) ?? file.username;
  const password = opt(env.PRESSO_MQTT_PASSWORD) ?? file.password;
  const caFile = opt(env.PRESSO_MQTT_CA) ?? file.caFile;
  const certFile = opt(env.PRESSO_MQTT_CERT) ?? file.certFile;
  const keyFile = opt(env.PRESSO_MQTT_KEY) ?? file.keyFile;
  const name = opt(env.PRESSO_GATEWAY_NAME) ?? file.name;
  for (const [field, path] of [
    ['PRESSO_MQTT_CA', caFile],
    ['PRESSO_MQTT_CERT', certFile],
    ['PRESSO_MQTT_KEY', keyFile],
  ] as const) {
    if (path !== undefined && !existsSync(path)) throw new ConfigError(field, `no file at "${path}"`);
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      'PRESSO_MQTT_CERT',
      'a client certificate needs its key (PRESSO_MQTT_KEY), and the other way round',
    );
  }
  return {
    centre: {
      url,
      gatewayId,
      centreId,
      keepaliveS:
        envInt(env, 'PRESSO_MQTT_KEEPALIVE_S', 2, 600) ?? file.keepaliveS ?? DEFAULT_MQTT_KEEPALIVE_S,
      reconnectMaxMs:
        envInt(env, 'PRESSO_MQTT_RECONNECT_MAX_MS', 500, 300_000) ??
        file.reconnectMaxMs ??
        DEFAULT_MQTT_RECONNECT_MAX_MS,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(caFile !== undefined ? { caFile: resolve(caFile) } : {}),
      ...(certFile !== undefined ? { certFile: resolve(certFile) } : {}),
      ...(keyFile !== undefined ? { keyFile: resolve(keyFile) } : {}),
      ...(publicUrl !== undefined ? { publicUrl } : {}),
      ...(name !== undefined ? { name } : {}),
    },
  };
}

/** A comma-separated list ("presso.local, 10.0.0.5"); each entry a host name or an address. */
function envList(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  const items = raw.split(',').map((x) => x.trim());
  const bad = items.find((x) => x === '' || x.length > 253 || /[\s/]/.test(x));
  if (bad !== undefined) {
    throw new ConfigError(name, `"${bad}" is not a host name or address (a comma-separated list, no ports)`);
  }
  return items;
}
