// The durable spool: usage events that could not reach Redis wait here as
// fsync'd JSON lines until a producer (any process) or `llm-tracker replay` sends them.
//
// Files move through three states by atomic rename inside one directory, so two
// processes can never replay the same file:
//   open~<host>~<pid>~<uuid>.jsonl       appended by its writer (one per process)
//   ready~<host>~<pid>~<uuid>.jsonl      sealed by its writer, waiting for replay
//   replaying~<host>~<pid>~<uuid>.jsonl  claimed by the replayer named in it
// An open or replaying file whose process is dead (same host: no such pid; other
// host: untouched for `staleMs`) may be claimed by anyone.
import { randomUUID } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { usageEventSchema, type UsageEvent } from "./usage-event.js";

type FileState = "open" | "ready" | "replaying";

const FILE_PATTERN = /^(open|ready|replaying)~([^~]+)~(\d+)~([0-9a-f-]{36})\.jsonl$/;
// '~' can not occur in a host name, so it separates the fields unambiguously.
const HOST = hostname().replaceAll("~", "-") || "localhost";

export interface SpoolOptions {
  /** Directory of the spool files; created when missing. */
  dir: string;
  /** A file from another host counts as abandoned after this long without change, in ms. Default 10 minutes. */
  staleMs?: number;
  /** The writer starts a new file once its file holds this many bytes. Default 16 MiB. */
  maxFileBytes?: number;
}

/** A spool file this process has claimed for replay. */
export interface ClaimedSpoolFile {
  path: string;
  /** Events that parsed and passed the event schema, in file order. */
  events: UsageEvent[];
  /** Lines that did not (a torn last line after a crash, for example). */
  badLines: number;
}

interface ParsedName {
  state: FileState;
  host: string;
  pid: number;
  uuid: string;
}

function parseName(name: string): ParsedName | undefined {
  const match = FILE_PATTERN.exec(name);
  if (!match) return undefined;
  return { state: match[1] as FileState, host: match[2]!, pid: Number(match[3]), uuid: match[4]! };
}

function fileName(state: FileState, uuid: string, pid = process.pid, host = HOST): string {
  return `${state}~${host}~${pid}~${uuid}.jsonl`;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function toLines(events: readonly UsageEvent[]): string {
  let text = "";
  for (const event of events) text += `${JSON.stringify(event)}\n`;
  return text;
}

export class Spool {
  readonly dir: string;
  private readonly staleMs: number;
  private readonly maxFileBytes: number;
  private current: { uuid: string; handle: FileHandle; bytes: number } | undefined;
  /** Serialises appends and seals: a file is never sealed mid-write. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.staleMs = options.staleMs ?? 10 * 60_000;
    this.maxFileBytes = options.maxFileBytes ?? 16 * 1024 * 1024;
  }

  /** Appends events to this process's open file and fsyncs; resolves once they are on disk. */
  append(events: readonly UsageEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const text = toLines(events);
    return this.serialise(async () => {
      if (this.current && this.current.bytes >= this.maxFileBytes) await this.sealCurrent();
      if (!this.current) {
        await mkdir(this.dir, { recursive: true });
        const uuid = randomUUID();
        this.current = { uuid, handle: await open(join(this.dir, fileName("open", uuid)), "a"), bytes: 0 };
      }
      const { handle } = this.current;
      await handle.appendFile(text);
      await handle.sync();
      this.current.bytes += Buffer.byteLength(text);
    });
  }

  /**
   * Writes events synchronously to a file of their own, already sealed; for the
   * process 'exit' hook, where nothing asynchronous runs any more.
   */
  appendSync(events: readonly UsageEvent[]): void {
    if (events.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    const uuid = randomUUID();
    const temporary = join(this.dir, fileName("open", uuid));
    const fd = openSync(temporary, "a");
    try {
      writeSync(fd, toLines(events));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // A rename is atomic; until it happens the file is an "open" file of a dead process, also replayable.
    try {
      renameSync(temporary, join(this.dir, fileName("ready", uuid)));
    } catch {
      // still replayable as an abandoned open file
    }
  }

  /** Closes this process's open file and marks it ready for replay (a later append opens a new file). */
  seal(): Promise<void> {
    return this.serialise(() => this.sealCurrent());
  }

  /** True when some file could be claimed now. */
  async hasClaimable(): Promise<boolean> {
    for (const name of await this.listNames()) if (await this.isClaimable(name)) return true;
    return false;
  }

  /**
   * Claims one replayable file (atomic rename) and reads it, or resolves to
   * undefined when there is none. The caller must `complete()` or `release()` it.
   */
  async claimNext(): Promise<ClaimedSpoolFile | undefined> {
    for (const name of await this.listNames()) {
      if (!(await this.isClaimable(name))) continue;
      const parsed = parseName(name)!;
      const claimedPath = join(this.dir, fileName("replaying", parsed.uuid));
      try {
        await rename(join(this.dir, name), claimedPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // another process won it
        throw error;
      }
      return { path: claimedPath, ...parseLines(await readFile(claimedPath, "utf8")) };
    }
    return undefined;
  }

  /** Removes a claimed file whose events are all queued. */
  async complete(file: ClaimedSpoolFile): Promise<void> {
    await unlink(file.path);
  }

  /** Gives a claimed file back (its replay failed); it becomes ready again. */
  async release(file: ClaimedSpoolFile): Promise<void> {
    const parsed = parseName(file.path.slice(this.dir.length + 1));
    if (!parsed) return;
    await rename(file.path, join(this.dir, fileName("ready", parsed.uuid)));
  }

  /** Seals the open file; the spool stays usable (a later append opens a new file). */
  async close(): Promise<void> {
    await this.seal();
  }

  private serialise<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => {});
    return run;
  }

  private async sealCurrent(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    await current.handle.close();
    await rename(join(this.dir, fileName("open", current.uuid)), join(this.dir, fileName("ready", current.uuid)));
  }

  private async listNames(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => FILE_PATTERN.test(name)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  private async isClaimable(name: string): Promise<boolean> {
    const parsed = parseName(name);
    if (!parsed) return false;
    if (parsed.state === "ready") return true;
    const mine = parsed.host === HOST && parsed.pid === process.pid;
    if (mine) return false; // our own open file is sealed first; our own claims are in progress
    if (parsed.host === HOST) return !isProcessAlive(parsed.pid);
    try {
      return Date.now() - (await stat(join(this.dir, name))).mtimeMs > this.staleMs;
    } catch {
      return false;
    }
  }
}

function parseLines(text: string): Omit<ClaimedSpoolFile, "path"> {
  const events: UsageEvent[] = [];
  let badLines = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = usageEventSchema.safeParse(JSON.parse(line));
      if (parsed.success) events.push(parsed.data);
      else badLines += 1;
    } catch {
      badLines += 1;
    }
  }
  return { events, badLines };
}
