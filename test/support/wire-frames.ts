// Incremental scanners for the two wire protocols the fault proxy cuts: they
// find where each message starts and ends inside the chunks a socket delivers,
// so the proxy can cut a conversation at an exact protocol moment.

/** One message seen in a chunk: offsets into that chunk (start may precede it, end may follow it). */
export interface Frame {
  /** Postgres: the message type letter ("startup" for the untyped first message). Redis: the command or reply's first word, upper-cased. */
  type: string;
  /** Offset of the message's first byte in this chunk; 0 when it began in an earlier chunk. */
  start: number;
  /** Offset just past its last byte, or undefined when it continues in a later chunk. */
  end: number | undefined;
}

/**
 * Postgres messages: `type(1) length(4) body`, except the client's first
 * (startup) message, which has no type byte.
 */
export class PostgresFrameScanner {
  private header: number[] = [];
  private remaining = 0;
  private current: Frame | undefined;

  constructor(private startup: boolean) {}

  scan(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    if (this.current) frames.push((this.current = { ...this.current, start: 0, end: undefined }));
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.finish(i);
        continue;
      }
      const headerSize = this.startup ? 4 : 5;
      if (this.header.length === 0) frames.push((this.current = { type: "", start: i, end: undefined }));
      this.header.push(chunk[i]!);
      i += 1;
      if (this.header.length < headerSize) continue;
      const bytes = Buffer.from(this.header);
      this.current!.type = this.startup ? "startup" : String.fromCharCode(bytes[0]!);
      this.remaining = bytes.readInt32BE(this.startup ? 0 : 1) - 4;
      this.header = [];
      this.startup = false;
      if (this.remaining <= 0) {
        this.remaining = 0;
        this.finish(i);
      }
    }
    return frames;
  }

  private finish(end: number): void {
    this.current!.end = end;
    this.current = undefined;
  }
}

/**
 * RESP values (RESP2 and RESP3 scalars): a client's commands are arrays of bulk
 * strings, Redis's replies any value. Reports each top-level value with its
 * first word: the command name for a command; for a reply its type character
 * ("*", "$", ":") or its simple-string text ("+OK", "-ERR").
 */
export class RespFrameScanner {
  private line: number[] = [];
  /** Bytes of a bulk string's body (plus CRLF) still to skip. */
  private bulkRemaining = 0;
  /** Whether the bulk body being read is the command name. */
  private bulkIsName = false;
  /** Elements still expected by each open aggregate, innermost last. */
  private stack: number[] = [];
  /** The top-level array was just opened: its next element names the command. */
  private expectName = false;
  private current: Frame | undefined;

  scan(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    if (this.current) frames.push((this.current = { ...this.current, start: 0, end: undefined }));
    let i = 0;
    while (i < chunk.length) {
      if (this.bulkRemaining > 0) {
        const take = Math.min(this.bulkRemaining, chunk.length - i);
        const dataBytes = Math.max(0, Math.min(take, this.bulkRemaining - 2));
        if (this.bulkIsName) this.current!.type += chunk.toString("latin1", i, i + dataBytes).toUpperCase();
        i += take;
        this.bulkRemaining -= take;
        if (this.bulkRemaining === 0) this.valueDone(i);
        continue;
      }
      if (!this.current) frames.push((this.current = { type: "", start: i, end: undefined }));
      const byte = chunk[i]!;
      i += 1;
      this.line.push(byte);
      if (!(byte === 0x0a && this.line[this.line.length - 2] === 0x0d)) continue;
      this.onLine(Buffer.from(this.line.slice(0, -2)).toString("latin1"), i);
      this.line = [];
    }
    return frames;
  }

  private onLine(text: string, end: number): void {
    const kind = text[0]!;
    const topLevel = this.stack.length === 0;
    const isName = this.expectName && this.stack.length === 1;
    this.expectName = false;
    if (kind === "*" || kind === "%" || kind === "~" || kind === ">") {
      const count = Number(text.slice(1)) * (kind === "%" ? 2 : 1);
      if (topLevel || isName) this.current!.type = kind;
      if (count <= 0) return this.valueDone(end);
      this.stack.push(count);
      if (topLevel) {
        this.current!.type = "";
        this.expectName = true;
      }
    } else if (kind === "$" || kind === "=" || kind === "!") {
      const length = Number(text.slice(1));
      if (topLevel) this.current!.type = kind;
      if (length < 0) return this.valueDone(end);
      this.bulkIsName = isName;
      this.bulkRemaining = length + 2;
    } else {
      if (topLevel || isName) this.current!.type = text.split(" ")[0]!.toUpperCase();
      this.valueDone(end);
    }
  }

  /** A scalar (or empty aggregate) ended at `end`: count it against the open aggregates; the top-level value ends when they are all full. */
  private valueDone(end: number): void {
    this.bulkIsName = false;
    while (this.stack.length > 0) {
      this.stack[this.stack.length - 1]! -= 1;
      if (this.stack[this.stack.length - 1]! > 0) return;
      this.stack.pop();
    }
    this.current!.end = end;
    this.current = undefined;
  }
}
