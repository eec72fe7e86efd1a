/**
 * The one error for a configuration mistake, thrown alike by the board loader, the drivers, the
 * program validator and the web process's settings: it carries the path of the field at fault
 * (`stations[1].zones[2].sensor`, `program.holdS`, `PRESSO_HTTP_PORT`), what is wrong with it and,
 * where one helps, what to do.
 */
export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly hint?: string,
  ) {
    super(`${path}: ${problem}${hint ? ` (${hint})` : ''}`);
    this.name = 'ConfigError';
  }

  /** The field at fault under the name the web process's settings errors have always used. */
  get field(): string {
    return this.path;
  }
}
