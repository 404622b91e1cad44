// Configuration: the contract's keys, from configure() or the environment,
// parsed once per change into typed objects the rest of the code trusts.
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError } from "../errors/config-error.js";
import { isTimeZoneName } from "../time-zone-name.js";

/** The providers llm-tracker can call (`LLM_PROVIDER`). */
export type ProviderName = "openai" | "azure_openai" | "gemini";

/** Keys accepted by configure() and read from the environment (objects as JSON text there). */
export interface SettingsInput {
  LLM_PROVIDER?: ProviderName;
  OPENAI_CONFIG?: OpenAIConfigInput | string;
  AZURE_OPENAI_CONFIG?: AzureOpenAIConfigInput | string;
  GEMINI_CONFIG?: GeminiConfigInput | string;
  /** Default `redis://127.0.0.1:6379`. */
  REDIS_URL?: string;
  /** Default `postgres://postgres@127.0.0.1:5432/llm_tracker`. */
  DATABASE_URL?: string;
  /** Default `llm-tracker-usage`. */
  LLM_TRACKER_QUEUE?: string;
  /** Default `~/.llm-tracker/spool`. */
  LLM_TRACKER_SPOOL_DIR?: string;
  /** Provider request timeout in ms. Default 60000. */
  LLM_TIMEOUT_MS?: number | string;
  /** Provider retries on 408/409/429/5xx and connection errors. Default 2. */
  LLM_MAX_RETRIES?: number | string;
  /** Events the producer holds in memory before spilling to the spool. Default 10000. */
  LLM_TRACKER_BUFFER_SIZE?: number | string;
  /** Events grouped into one queue job. Default 100. */
  LLM_TRACKER_JOB_SIZE?: number | string;
  /** Flush/shutdown on SIGTERM, SIGINT and beforeExit. Default true. */
  LLM_TRACKER_HANDLE_SIGNALS?: boolean | string;
  /** Worker: most events per INSERT. Default 2000. */
  LLM_TRACKER_BATCH_SIZE?: number | string;
  /** Worker: longest wait before a partial batch is written, in ms. Default 50. */
  LLM_TRACKER_FLUSH_MS?: number | string;
  /** Worker: how often the rollup's partial sums are merged, in ms; 0 turns it off. Default 10000. */
  LLM_TRACKER_ROLLUP_COMPACT_MS?: number | string;
  /** Worker: HTTP port for /healthz and /metrics; 0 turns it off. Default 9464. */
  LLM_TRACKER_HTTP_PORT?: number | string;
  /** Worker: drop the usage table's daily partitions once their day ended this many days ago. Default: unset, every row is kept. */
  LLM_TRACKER_RETENTION_DAYS?: number | string;
  /** pino level. Default `info`. */
  LLM_TRACKER_LOG_LEVEL?: string;
  /** Path of a price file merged over the shipped prices. */
  LLM_TRACKER_PRICES?: string;
  /** BullMQ key prefix. Default `bull`; a hash tag such as `{llm-tracker}` on a Redis Cluster. */
  LLM_TRACKER_QUEUE_PREFIX?: string;
  /** REDIS_URL names one node of a Redis Cluster (connections become cluster clients). Default false. */
  LLM_TRACKER_REDIS_CLUSTER?: boolean | string;
  /** Where the stats read (a read replica). Default: DATABASE_URL. */
  LLM_TRACKER_STATS_DATABASE_URL?: string;
  /** Price overrides by model key (LiteLLM field names), merged over the shipped prices and the price file. */
  LLM_TRACKER_PRICE_OVERRIDES?: Record<string, Record<string, unknown>> | string;
  /** Azure deployment name → model it serves (e.g. `{ "prod-chat": "gpt-4o-mini" }`), for pricing. */
  LLM_TRACKER_AZURE_DEPLOYMENTS?: Record<string, string> | string;
  /** Spend limits checked before each tracked call (JSON text in the environment). Default: none. */
  LLM_TRACKER_BUDGETS?: BudgetInput[] | string;
  /** How long the app trusts its local copy of the budgets' spend, in ms. Default 250. */
  LLM_TRACKER_BUDGET_CACHE_MS?: number | string;
}

/** One entry of `LLM_TRACKER_BUDGETS`. */
export interface BudgetInput {
  scope: "global" | "user" | "node";
  /** The user id or node name; absent = every user / every node separately (ignored for `global`). */
  key?: string;
  period: "day" | "month";
  /** USD; a call is refused once the scope's spend in the period is at or past it. */
  limit_usd: number;
  /** IANA zone whose midnight starts a period. Default `UTC`. */
  time_zone?: string;
}

export interface OpenAIConfigInput {
  api_key?: string;
  model?: string;
  max_tokens?: number;
  temperature?: number;
  base_url?: string;
}

export interface AzureOpenAIConfigInput {
  api_key?: string;
  api_base?: string;
  deployment?: string;
  api_version?: string;
  model?: string;
  max_tokens?: number;
  temperature?: number;
}

export interface GeminiConfigInput {
  api_key?: string;
  model?: string;
  max_tokens?: number;
  temperature?: number;
  base_url?: string;
}

export const DEFAULTS = {
  openaiModel: "gpt-4o-mini",
  geminiModel: "gemini-2.5-flash",
  maxTokens: 4096,
  timeoutMs: 60_000,
  maxRetries: 2,
  redisUrl: "redis://127.0.0.1:6379",
  databaseUrl: "postgres://postgres@127.0.0.1:5432/llm_tracker",
  queueName: "llm-tracker-usage",
  spoolDir: join(homedir(), ".llm-tracker", "spool"),
  bufferSize: 10_000,
  jobSize: 100,
  batchSize: 2_000,
  flushMs: 50,
  rollupCompactMs: 10_000,
  httpPort: 9464,
  logLevel: "info",
  queuePrefix: "bull",
  budgetCacheMs: 250,
} as const;

const KEYS = [
  "LLM_PROVIDER",
  "OPENAI_CONFIG",
  "AZURE_OPENAI_CONFIG",
  "GEMINI_CONFIG",
  "REDIS_URL",
  "DATABASE_URL",
  "LLM_TRACKER_QUEUE",
  "LLM_TRACKER_SPOOL_DIR",
  "LLM_TIMEOUT_MS",
  "LLM_MAX_RETRIES",
  "LLM_TRACKER_BUFFER_SIZE",
  "LLM_TRACKER_JOB_SIZE",
  "LLM_TRACKER_HANDLE_SIGNALS",
  "LLM_TRACKER_BATCH_SIZE",
  "LLM_TRACKER_FLUSH_MS",
  "LLM_TRACKER_ROLLUP_COMPACT_MS",
  "LLM_TRACKER_HTTP_PORT",
  "LLM_TRACKER_LOG_LEVEL",
  "LLM_TRACKER_PRICES",
  "LLM_TRACKER_PRICE_OVERRIDES",
  "LLM_TRACKER_AZURE_DEPLOYMENTS",
  "LLM_TRACKER_QUEUE_PREFIX",
  "LLM_TRACKER_REDIS_CLUSTER",
  "LLM_TRACKER_STATS_DATABASE_URL",
  "LLM_TRACKER_RETENTION_DAYS",
  "LLM_TRACKER_BUDGETS",
  "LLM_TRACKER_BUDGET_CACHE_MS",
] as const satisfies readonly (keyof SettingsInput)[];

let configured: SettingsInput = {};
let generation = 0;
const listeners = new Set<() => void>();

/**
 * Sets configuration; each key named here replaces what the environment said.
 * May be called again to reconfigure: clients built from the old settings are
 * dropped and rebuilt on next use.
 */
export function configure(settings: SettingsInput): void {
  for (const key of Object.keys(settings)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new ConfigError(key, "is not a known setting");
  }
  configured = { ...configured, ...settings };
  generation += 1;
  for (const listener of listeners) listener();
}

/** Forgets everything configure() set (tests and reconfiguration from scratch). */
export function resetConfiguration(): void {
  configured = {};
  generation += 1;
  for (const listener of listeners) listener();
}

/** Registers a callback run whenever the configuration changes; returns the unsubscribe function. */
export function onConfigurationChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function rawValue(key: (typeof KEYS)[number]): unknown {
  if (key in configured && configured[key] !== undefined) return configured[key];
  const fromEnv = process.env[key];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/** Caches a parse until the next configure(). */
function cachedByGeneration<T>(parse: () => T): () => T {
  let cache: { generation: number; value: T } | undefined;
  return () => {
    if (cache?.generation !== generation) cache = { generation, value: parse() };
    return cache.value;
  };
}

// ---------- parsing helpers: every failure names the key, never the value ----------

function describeIssue(key: string, error: z.ZodError): ConfigError {
  const issue = error.issues[0];
  const path = issue && issue.path.length > 0 ? `${key}.${issue.path.join(".")}` : key;
  const problem = issue?.code === "invalid_type" && issue.input === undefined ? "is missing" : `is invalid (${issue?.message ?? "bad value"})`;
  return new ConfigError(path, problem);
}

function parseWith<S extends z.ZodType>(key: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw describeIssue(key, result.error);
  return result.data;
}

function objectSetting(key: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigError(key, "is not valid JSON text");
    }
    value = parsed;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(key, "must be an object");
  return value as Record<string, unknown>;
}

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.string().refine((s) => URL.canParse(s), "must be a URL");
const secret = z.string().min(1);
const maxTokens = intFrom(1, 10_000_000);
const temperature = z.coerce.number().min(0).max(2);

const booleanText = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((s) => s === "true" || s === "1")]);

function booleanSetting(key: (typeof KEYS)[number], fallback: boolean): boolean {
  const value = rawValue(key);
  return value === undefined ? fallback : parseWith(key, booleanText, value);
}

/**
 * The part of a key Redis Cluster hashes: the text between the first `{` and
 * the first `}` after it, when not empty (the Redis Cluster specification's rule).
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function numberSetting(key: (typeof KEYS)[number], fallback: number, min: number, max: number): number {
  const value = rawValue(key);
  return value === undefined ? fallback : parseWith(key, intFrom(min, max), value);
}

// ---------- provider settings ----------

export interface OpenAISettings {
  provider: "openai";
  apiKey: string;
  model: string;
  maxTokens: number;
  temperature: number | undefined;
  baseURL: string | undefined;
}

export interface AzureOpenAISettings {
  provider: "azure_openai";
  apiKey: string;
  apiBase: string;
  deployment: string;
  apiVersion: string | undefined;
  model: string;
  maxTokens: number;
  temperature: number | undefined;
}

export interface GeminiSettings {
  provider: "gemini";
  apiKey: string;
  model: string;
  maxTokens: number;
  temperature: number | undefined;
  baseURL: string | undefined;
}

export type ProviderSettings = (OpenAISettings | AzureOpenAISettings | GeminiSettings) & {
  timeoutMs: number;
  maxRetries: number;
};

const openAISchema = z.object({
  api_key: secret,
  model: z.string().min(1).default(DEFAULTS.openaiModel),
  max_tokens: maxTokens.default(DEFAULTS.maxTokens),
  temperature: temperature.optional(),
  base_url: url.optional(),
});

const azureSchema = z.object({
  api_key: secret,
  api_base: url,
  deployment: z.string().min(1).optional(),
  api_version: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  max_tokens: maxTokens.default(DEFAULTS.maxTokens),
  temperature: temperature.optional(),
});

const geminiSchema = z.object({
  api_key: secret,
  model: z.string().min(1).default(DEFAULTS.geminiModel),
  max_tokens: maxTokens.default(DEFAULTS.maxTokens),
  temperature: temperature.optional(),
  base_url: url.optional(),
});

/** Fills gaps in a provider object from the conventional variables (OPENAI_API_KEY, …). */
function withFallbacks(config: Record<string, unknown>, fallbacks: Record<string, string | undefined>): Record<string, unknown> {
  const filled = { ...config };
  for (const [field, envName] of Object.entries(fallbacks)) {
    const fromEnv = envName ? process.env[envName] : undefined;
    if (filled[field] === undefined && fromEnv) filled[field] = fromEnv;
  }
  return filled;
}

function parseProvider(): ProviderSettings {
  const name = rawValue("LLM_PROVIDER");
  if (name === undefined) throw new ConfigError("LLM_PROVIDER", "is missing (one of openai, azure_openai, gemini)");
  const provider = parseWith("LLM_PROVIDER", z.enum(["openai", "azure_openai", "gemini"]), name);
  const common = {
    timeoutMs: numberSetting("LLM_TIMEOUT_MS", DEFAULTS.timeoutMs, 1, 3_600_000),
    maxRetries: numberSetting("LLM_MAX_RETRIES", DEFAULTS.maxRetries, 0, 10),
  };

  if (provider === "openai") {
    const raw = withFallbacks(objectSetting("OPENAI_CONFIG", rawValue("OPENAI_CONFIG")) ?? {}, {
      api_key: "OPENAI_API_KEY",
      base_url: "OPENAI_BASE_URL",
    });
    const c = parseWith("OPENAI_CONFIG", openAISchema, raw);
    return { provider, apiKey: c.api_key, model: c.model, maxTokens: c.max_tokens, temperature: c.temperature, baseURL: c.base_url, ...common };
  }

  if (provider === "azure_openai") {
    const raw = withFallbacks(objectSetting("AZURE_OPENAI_CONFIG", rawValue("AZURE_OPENAI_CONFIG")) ?? {}, {
      api_key: "AZURE_OPENAI_API_KEY",
      api_base: "AZURE_OPENAI_ENDPOINT",
      api_version: "OPENAI_API_VERSION",
      deployment: "AZURE_OPENAI_DEPLOYMENT",
    });
    const c = parseWith("AZURE_OPENAI_CONFIG", azureSchema, raw);
    const deployment = c.deployment ?? c.model;
    if (!deployment) throw new ConfigError("AZURE_OPENAI_CONFIG.deployment", "is missing (or give model, used as the deployment name)");
    return {
      provider,
      apiKey: c.api_key,
      // Portal copies often end in /openai; the SDK adds that segment itself.
      apiBase: c.api_base.replace(/\/+$/, "").replace(/\/openai$/, ""),
      deployment,
      apiVersion: c.api_version,
      model: c.model ?? deployment,
      maxTokens: c.max_tokens,
      temperature: c.temperature,
      ...common,
    };
  }

  const raw = withFallbacks(objectSetting("GEMINI_CONFIG", rawValue("GEMINI_CONFIG")) ?? {}, {
    api_key: "GEMINI_API_KEY",
  });
  const c = parseWith("GEMINI_CONFIG", geminiSchema, raw);
  return { provider, apiKey: c.api_key, model: c.model, maxTokens: c.max_tokens, temperature: c.temperature, baseURL: c.base_url, ...common };
}

/** The configured provider's settings; throws ConfigError when incomplete. */
export const getProviderSettings = cachedByGeneration(parseProvider);

// ---------- tracker settings (queue, spool, worker) ----------

export interface TrackerSettings {
  redisUrl: string;
  /** REDIS_URL is a seed node of a Redis Cluster. */
  redisCluster: boolean;
  databaseUrl: string;
  /** Where the stats read; DATABASE_URL unless LLM_TRACKER_STATS_DATABASE_URL says otherwise. */
  statsDatabaseUrl: string;
  queueName: string;
  /** BullMQ key prefix; holds a hash tag when redisCluster is true (checked here). */
  queuePrefix: string;
  spoolDir: string;
  bufferSize: number;
  jobSize: number;
  handleSignals: boolean;
  batchSize: number;
  flushMs: number;
  rollupCompactMs: number;
  /** Days of raw rows kept (whole UTC days; older daily partitions are dropped); undefined keeps them all. */
  retentionDays: number | undefined;
  httpPort: number;
  logLevel: string;
  pricesPath: string | undefined;
  /** Raw price overrides (object); checked by the cost module, which owns the price format. */
  priceOverrides: Record<string, unknown> | undefined;
  azureDeployments: Record<string, string>;
  /** LLM_TRACKER_BUDGETS, parsed; empty when unset. */
  budgets: Budget[];
  budgetCacheMs: number;
}

/** A parsed budget: `key` null means every user / node separately (always null for `global`). */
export interface Budget {
  scope: "global" | "user" | "node";
  key: string | null;
  period: "day" | "month";
  limitUsd: number;
  timeZone: string;
}

const budgetSchema = z.array(
  z.strictObject({
    scope: z.enum(["global", "user", "node"]),
    key: z.string().min(1).max(500).optional(),
    period: z.enum(["day", "month"]),
    limit_usd: z.number().finite().min(0),
    time_zone: z.string().refine(isTimeZoneName, "must be an IANA time zone name such as UTC or Asia/Shanghai").optional(),
  }),
);

function parseBudgets(): Budget[] {
  const raw = rawValue("LLM_TRACKER_BUDGETS");
  if (raw === undefined) return [];
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError("LLM_TRACKER_BUDGETS", "is not valid JSON text");
    }
  }
  return parseWith("LLM_TRACKER_BUDGETS", budgetSchema, value).map((b) => ({
    scope: b.scope,
    key: b.scope === "global" ? null : (b.key ?? null),
    period: b.period,
    limitUsd: b.limit_usd,
    timeZone: b.time_zone ?? "UTC",
  }));
}

function parseTracker(): TrackerSettings {
  const text = (key: (typeof KEYS)[number], fallback: string, schema: z.ZodType<string> = z.string().min(1)) => {
    const value = rawValue(key);
    return value === undefined ? fallback : parseWith(key, schema, value);
  };
  const pricesRaw = rawValue("LLM_TRACKER_PRICES");
  const databaseUrl = text("DATABASE_URL", DEFAULTS.databaseUrl, url);
  const redisCluster = booleanSetting("LLM_TRACKER_REDIS_CLUSTER", false);
  const redisUrl = text("REDIS_URL", DEFAULTS.redisUrl, url);
  if (redisCluster && !/^\/?0?$/.test(new URL(redisUrl).pathname)) {
    throw new ConfigError("REDIS_URL", "names a database other than 0, which a Redis Cluster does not have");
  }
  const queuePrefix = text("LLM_TRACKER_QUEUE_PREFIX", DEFAULTS.queuePrefix, z.string().regex(/^\S{1,100}$/, "1 to 100 characters, no spaces"));
  // Redis Cluster refuses a script whose keys live in different slots (CROSSSLOT), and every
  // BullMQ command is such a script: the prefix's hash tag puts all of a queue's keys in one slot.
  if (redisCluster && hashTag(queuePrefix) === undefined) {
    throw new ConfigError("LLM_TRACKER_QUEUE_PREFIX", "needs a hash tag such as {llm-tracker} when LLM_TRACKER_REDIS_CLUSTER is true");
  }
  return {
    redisUrl,
    redisCluster,
    databaseUrl,
    statsDatabaseUrl: text("LLM_TRACKER_STATS_DATABASE_URL", databaseUrl, url),
    queueName: text("LLM_TRACKER_QUEUE", DEFAULTS.queueName, z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only")),
    queuePrefix,
    spoolDir: text("LLM_TRACKER_SPOOL_DIR", DEFAULTS.spoolDir),
    bufferSize: numberSetting("LLM_TRACKER_BUFFER_SIZE", DEFAULTS.bufferSize, 1, 10_000_000),
    jobSize: numberSetting("LLM_TRACKER_JOB_SIZE", DEFAULTS.jobSize, 1, 10_000),
    handleSignals: booleanSetting("LLM_TRACKER_HANDLE_SIGNALS", true),
    batchSize: numberSetting("LLM_TRACKER_BATCH_SIZE", DEFAULTS.batchSize, 1, 100_000),
    flushMs: numberSetting("LLM_TRACKER_FLUSH_MS", DEFAULTS.flushMs, 0, 600_000),
    rollupCompactMs: numberSetting("LLM_TRACKER_ROLLUP_COMPACT_MS", DEFAULTS.rollupCompactMs, 0, 86_400_000),
    retentionDays: rawValue("LLM_TRACKER_RETENTION_DAYS") === undefined ? undefined : numberSetting("LLM_TRACKER_RETENTION_DAYS", 0, 1, 36_500),
    httpPort: numberSetting("LLM_TRACKER_HTTP_PORT", DEFAULTS.httpPort, 0, 65_535),
    logLevel: text("LLM_TRACKER_LOG_LEVEL", DEFAULTS.logLevel, z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
    pricesPath: pricesRaw === undefined ? undefined : parseWith("LLM_TRACKER_PRICES", z.string().min(1), pricesRaw),
    priceOverrides: objectSetting("LLM_TRACKER_PRICE_OVERRIDES", rawValue("LLM_TRACKER_PRICE_OVERRIDES")),
    azureDeployments: parseWith(
      "LLM_TRACKER_AZURE_DEPLOYMENTS",
      z.record(z.string().min(1), z.string().min(1)),
      objectSetting("LLM_TRACKER_AZURE_DEPLOYMENTS", rawValue("LLM_TRACKER_AZURE_DEPLOYMENTS")) ?? {},
    ),
    budgets: parseBudgets(),
    budgetCacheMs: numberSetting("LLM_TRACKER_BUDGET_CACHE_MS", DEFAULTS.budgetCacheMs, 1, 3_600_000),
  };
}

/** Queue, spool, database and worker settings; every key has a default. */
export const getTrackerSettings = cachedByGeneration(parseTracker);
