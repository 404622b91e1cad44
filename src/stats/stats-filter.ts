// `options.filter` of the stats: only the calls of one user, node and/or model.
// Parsed once into terms; usage-sources.ts decides from them where to read.
import type { PendingQuery, Row, Sql } from "postgres";
import { InvalidInputError } from "../errors/invalid-input-error.js";
import type { Dimension } from "./range-plan.js";

type Fragment = PendingQuery<Row[]>;

/** Narrows a stats call to the calls matching every key given (an absent key matches all). */
export interface StatsFilter {
  /** Only this user's calls; `null` = the calls made without a user. */
  userId?: string | null;
  /** Only this `metadata.node_name`; `null` = the rows that have none. */
  nodeName?: string | null;
  /** Only this model. */
  model?: string;
}

/** One condition of a filter: the rollup dimension it narrows and the key it keeps. */
export interface FilterTerm {
  dimension: Dimension;
  /** null keeps the rows whose user / node is null. */
  value: string | null;
}

const KEYS: Record<keyof StatsFilter, { dimension: Dimension; nullable: boolean }> = {
  userId: { dimension: "user", nullable: true },
  nodeName: { dimension: "node", nullable: true },
  model: { dimension: "model", nullable: false },
};

/** `options.filter` as terms (none when absent); throws InvalidInputError naming the bad key. */
export function parseStatsFilter(filter: unknown): FilterTerm[] {
  if (filter === undefined || filter === null) return [];
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new InvalidInputError("options.filter", "expected an object such as { userId: \"u1\" }");
  }
  const terms: FilterTerm[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const spec = KEYS[key as keyof StatsFilter];
    if (!spec) throw new InvalidInputError(`options.filter.${key}`, "is not a filter key (userId, nodeName, model)");
    if (value === undefined) continue;
    if (typeof value === "string" || (value === null && spec.nullable)) {
      terms.push({ dimension: spec.dimension, value });
      continue;
    }
    throw new InvalidInputError(`options.filter.${key}`, `expected a string${spec.nullable ? " or null" : ""}, got ${value === null ? "null" : typeof value}`);
  }
  return terms;
}

/** `AND …` keeping the raw usage rows that match every term (empty without terms). */
export function rawRowsMatching(sql: Sql, terms: FilterTerm[]): Fragment {
  return terms.reduce((conditions, term) => sql`${conditions} AND ${rawCondition(sql, term)}`, sql``);
}

/** `AND …` keeping the rollup rows of the term's key (its dimension is chosen by the caller). */
export function rollupRowsOf(sql: Sql, term: FilterTerm): Fragment {
  // The rollup stores a null user / node as key '' with key_is_null, so '' and null stay apart.
  return sql`AND key_is_null = ${term.value === null} AND key = ${term.value ?? ""}`;
}

function rawCondition(sql: Sql, term: FilterTerm): Fragment {
  // Written so the (user_id, created_at) and (model, created_at) indexes apply.
  const column = term.dimension === "user" ? sql`user_id` : term.dimension === "model" ? sql`model` : sql`(metadata->>'node_name')`;
  return term.value === null ? sql`${column} IS NULL` : sql`${column} = ${term.value}`;
}
