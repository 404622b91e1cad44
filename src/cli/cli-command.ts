// What every `llm-tracker` subcommand module exports, and the exit codes they return.

export interface CliCommand {
  summary: string;
  help: string;
  /** Resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
