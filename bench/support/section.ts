// What every benchmark section exports (bench/sections/<name>.ts), so bench/run.ts
// can run whichever sections exist and print their rows in one table.
import type { Row } from "./figures.js";

export interface SectionOptions {
  /** Small sizes for a sanity run (the whole quick bench stays under a minute). */
  quick: boolean;
}

export interface BenchSection {
  title: string;
  run(options: SectionOptions): Promise<Row[]>;
}
