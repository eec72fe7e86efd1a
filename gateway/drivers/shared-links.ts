/**
 * Connections that several devices of one board share, by key: an RS-485 bus with several Modbus
 * units on it, a TCP gateway with several unit ids behind it. One table per opened board, created
 * with the board's DriverContext (board/runtime.ts, safe-state.ts), so two boards, or two tests,
 * never share a connection by accident and nothing outlives the board that opened it.
 */

export interface SharedLink {
  /** Where, in words: "127.0.0.1:1502", "/dev/ttyUSB0". */
  readonly where: string;
  /** Settings every device on the link must agree on, in words ("19200 8E1"). */
  readonly settings: string;
  /** Closes the connection; resolves once closed. Never rejects. */
  close(): Promise<void>;
}

export class SharedLinks {
  private readonly entries = new Map<string, { link: SharedLink; users: number }>();

  /**
   * The link under `key` (keys name their kind, e.g. `rtu:/dev/ttyUSB0`), shared with every other
   * device holding it, or a new one from `create`. Throws when a device already holds that key
   * with other `settings`.
   */
  acquire<L extends SharedLink>(key: string, settings: string, create: () => L): L {
    const entry = this.entries.get(key);
    if (entry && entry.link.settings !== settings) {
      throw new Error(
        `${entry.link.where} is already open at ${entry.link.settings}; every device on one bus must use the same settings (this one asks for ${settings})`,
      );
    }
    if (entry) {
      entry.users++;
      return entry.link as L;
    }
    const link = create();
    this.entries.set(key, { link, users: 1 });
    return link;
  }

  /** Gives back a link from acquire(); the last user closes it. Never rejects. */
  async release(key: string, link: SharedLink): Promise<void> {
    const entry = this.entries.get(key);
    if (entry?.link === link) {
      entry.users--;
      if (entry.users > 0) return;
      this.entries.delete(key);
    }
    await link.close();
  }
}
