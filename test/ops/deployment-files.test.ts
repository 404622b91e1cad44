// Checks the Dockerfile, .dockerignore and docker-compose.yml without a Docker
// engine: `docker compose config` when the compose plugin exists, and always a
// structural reading of each file for the properties operators rely on.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYamlSubset, type YamlValue } from "./support/yaml-subset.js";

const root = join(import.meta.dirname, "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
type Mapping = { [key: string]: YamlValue };
const asMap = (value: YamlValue | undefined): Mapping => {
  expect(value, "expected a mapping").toBeTypeOf("object");
  expect(Array.isArray(value)).toBe(false);
  return value as Mapping;
};

const compose = asMap(parseYamlSubset(read("docker-compose.yml")));
const services = asMap(compose.services);
const composeAvailable = spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0;

describe("docker-compose.yml", () => {
  it.runIf(composeAvailable)("passes `docker compose config`", () => {
    const result = spawnSync("docker", ["compose", "-f", join(root, "docker-compose.yml"), "config", "-q"], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("runs redis, postgres and the worker, each with a healthcheck command", () => {
    expect(Object.keys(services).sort()).toEqual(["postgres", "redis", "worker"]);
    for (const [name, service] of Object.entries(services)) {
      const test = asMap(asMap(service).healthcheck).test as string[];
      expect(test, `${name} healthcheck`).toBeInstanceOf(Array);
      expect(["CMD", "CMD-SHELL"]).toContain(test[0]);
      expect(test.length, `${name} healthcheck`).toBeGreaterThan(1);
    }
  });

  it("keeps queued events through a Redis restart and never evicts them", () => {
    const redis = asMap(services.redis);
    const command = (redis.command as string[]).join(" ");
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes).toEqual([expect.stringMatching(/^redis-data:\/data$/)]);
    expect(asMap(redis.healthcheck).test).toEqual(["CMD", "redis-cli", "ping"]);
  });

  it("creates the llm_tracker database on a persistent Postgres volume, checked with pg_isready", () => {
    const postgres = asMap(services.postgres);
    expect(postgres.image).toMatch(/^postgres:1[67]\b/);
    expect(asMap(postgres.environment).POSTGRES_DB).toBe("llm_tracker");
    expect(postgres.volumes).toEqual(["postgres-data:/var/lib/postgresql/data"]);
    expect((asMap(postgres.healthcheck).test as string[]).join(" ")).toContain("pg_isready");
    expect(Object.keys(asMap(compose.volumes)).sort()).toEqual(["postgres-data", "redis-data"]);
  });

  it("builds the worker from the Dockerfile and starts it only once Redis and Postgres are healthy", () => {
    const worker = asMap(services.worker);
    expect(worker.build).toBe(".");
    expect(asMap(worker.depends_on)).toEqual({
      redis: { condition: "service_healthy" },
      postgres: { condition: "service_healthy" },
    });
    const env = asMap(worker.environment);
    expect(new URL(env.REDIS_URL as string).hostname).toBe("redis");
    expect(new URL(env.DATABASE_URL as string).hostname).toBe("postgres");
    expect(new URL(env.DATABASE_URL as string).pathname).toBe("/llm_tracker");
    expect(env.LLM_TRACKER_QUEUE).toBeTypeOf("string");
    expect(env.LLM_TRACKER_HTTP_PORT).toBe("9464");
    expect((asMap(worker.healthcheck).test as string[]).join(" ")).toContain("127.0.0.1:9464/healthz");
    expect(worker.ports).toEqual([expect.stringMatching(/:9464$/)]);
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile").replace(/\\\n/g, " ");
  const instructions = dockerfile
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: string[][] = [];
  for (const line of instructions) {
    if (/^FROM /i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const build = stages[0] ?? [];
  const runtime = stages.at(-1) ?? [];

  it("builds in one stage and runs from a second one", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toContain("RUN npm ci --no-audit --no-fund");
    expect(build).toContain("RUN npm run build");
  });

  it("installs only production dependencies in the runtime stage, with dist/ and drizzle/", () => {
    expect(runtime.some((line) => /^RUN npm ci --omit=dev\b/.test(line))).toBe(true);
    expect(runtime.some((line) => /npm run build|npm install\b/.test(line))).toBe(false);
    expect(runtime).toContain("COPY --from=build /app/dist ./dist");
    expect(runtime).toContain("COPY drizzle ./drizzle");
  });

  it("runs as a non-root user", () => {
    const users = runtime.filter((line) => /^USER /.test(line));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER (root|0)(:|$)/);
  });

  it("runs the worker command, exposes 9464 and checks /healthz", () => {
    expect(runtime).toContain('CMD ["node", "dist/src/cli/main.js", "worker"]');
    expect(runtime).toContain("EXPOSE 9464");
    expect(runtime.find((line) => line.startsWith("HEALTHCHECK"))).toMatch(/\/healthz/);
  });

  it("copies only files that exist and that .dockerignore lets through", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining([".git", "node_modules", "dist", ".env"]));
    const sources = instructions
      .filter((line) => /^COPY /.test(line) && !line.includes("--from="))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(ignored, `${source} is copied but ignored`).not.toContain(source);
      // workers/ arrives with the worker itself; everything else is already in the tree.
      if (source !== "workers") expect(existsSync(join(root, source)), `${source} exists`).toBe(true);
    }
  });
});
