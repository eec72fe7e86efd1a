/**
 * Gateway and centre ids are MQTT topic levels: no `/`, `+`, `#` or spaces. Its own module so the
 * settings (server/config.ts, also read by the watchdog) check it without loading the schemas.
 */
export const MQTT_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
