/**
 * The framing of the controller's socket, shared by both ends (client.ts, server.ts): one JSON
 * message per line, each line bounded.
 */

/** Longest JSON line either side accepts; a full frame of every station is a few KB. */
export const MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into lines of at most `maxLineBytes` bytes. Works on bytes, not strings,
 * so a UTF-8 character split across two reads is decoded whole and the bound is exact.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

  /** The complete lines in `chunk` (without their newline, blank ones skipped); `tooLong` when a
   * line outgrew the bound: the caller should give up on the stream, its framing is lost. */
  push(chunk: Buffer): { lines: string[]; tooLong: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.buffered + (end - start) > this.maxLineBytes) {
        this.chunks = [];
        this.buffered = 0;
        return { lines, tooLong: true };
      }
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const bytes = this.buffered === 0 ? piece : Buffer.concat([...this.chunks, piece]);
      this.chunks = [];
      this.buffered = 0;
      const line = bytes.toString('utf8').trim();
      if (line !== '') lines.push(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.buffered += chunk.length - start;
    }
    return { lines, tooLong: false };
  }
}
