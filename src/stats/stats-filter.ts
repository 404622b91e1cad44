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

/** `AND …` keeping the rollup rows of any of `keys` (a non-empty list of one dimension's keys, null = the rows without one). */
export function rollupRowsOfAny(sql: Sql, keys: readonly (string | null)[]): Fragment {
  return anyOf(sql, keys, (named) => sql`(NOT key_is_null AND key IN ${sql(named)})`, sql`key_is_null`);
}

/** `AND …` keeping the raw usage rows whose `dimension` is any of `keys` (non-empty; null = none set). */
export function rawRowsOfAny(sql: Sql, dimension: Dimension, keys: readonly (string | null)[]): Fragment {
  const column = rawColumn(sql, dimension);
  return anyOf(sql, keys, (named) => sql`${column} IN ${sql(named)}`, sql`${column} IS NULL`);
}

/** `AND …` keeping the rollup rows whose key `keys` (a subquery of non-null keys, such as models) yields. */
export function rollupRowsIn(sql: Sql, keys: Fragment): Fragment {
  return sql`AND NOT key_is_null AND key IN (${keys})`;
}

/** `AND …` keeping the raw usage rows whose `dimension` is a key `keys` (a subquery of non-null keys) yields. */
export function rawRowsIn(sql: Sql, dimension: Dimension, keys: Fragment): Fragment {
  return sql`AND ${rawColumn(sql, dimension)} IN (${keys})`;
}

/** `AND (named keys' condition OR null key's condition)`, with only the alternatives `keys` needs. */
function anyOf(sql: Sql, keys: readonly (string | null)[], named: (names: string[]) => Fragment, none: Fragment): Fragment {
  const names = keys.filter((key): key is string => key !== null);
  const alternatives = [...(names.length > 0 ? [named(names)] : []), ...(names.length < keys.length ? [none] : [])];
  return sql`AND (${alternatives.reduce((either, alternative) => sql`${either} OR ${alternative}`)})`;
}

function rawCondition(sql: Sql, term: FilterTerm): Fragment {
  const column = rawColumn(sql, term.dimension);
  return term.value === null ? sql`${column} IS NULL` : sql`${column} = ${term.value}`;
}

function rawColumn(sql: Sql, dimension: Dimension): Fragment {
  // Written so the (user_id, created_at) and (model, created_at) indexes apply.
  return dimension === "user" ? sql`user_id` : dimension === "model" ? sql`model` : sql`(metadata->>'node_name')`;
}
