// `npm run demo`: the whole pipeline in one command, no API key. A local fake
// provider answers in the OpenAI, Azure OpenAI and Gemini wire formats; the
// real worker consumes the real queue; tracked calls (some failing) become
// rows; the stats read them back. Needs the local Postgres and Redis: when one
// is not there, it says so in one line, with what to start, and exits 1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import postgres from "postgres";
import { startFakeProvider, loadFixture, type FakeProvider } from "../test/fake-provider/fake-provider.js";
import { configure, flush, LLMTracker, shutdown, type SettingsInput } from "../src/index.js";
import { getStatsByModel, getStatsByNode, getStatsByUser, getSummaryStats } from "../src/stats/index.js";
import { startUsageWorker } from "../workers/usage-worker.js";
import { checkServices } from "./check-services.js";

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/llm_tracker_demo";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const queueName = `llm-tracker-demo-${process.pid}`;
const spoolDir = mkdtempSync(join(tmpdir(), "llm-tracker-demo-"));

const users = ["alice", "bob", "carol"];
const nodes = ["interpret", "summarize", "classify"];

function providerSettings(fake: FakeProvider, provider: "openai" | "azure_openai" | "gemini"): SettingsInput {
  const key = "demo-key-not-a-secret";
  if (provider === "openai") return { LLM_PROVIDER: provider, OPENAI_CONFIG: { api_key: key, base_url: `${fake.url}/v1` } };
  if (provider === "azure_openai")
    return { LLM_PROVIDER: provider, AZURE_OPENAI_CONFIG: { api_key: key, api_base: fake.url, deployment: "demo-gpt-4o", api_version: "2024-10-21" } };
  return { LLM_PROVIDER: provider, GEMINI_CONFIG: { api_key: key, base_url: fake.url } };
}

/** One tracked call; every seventh fails at the provider, every eleventh is refused (empty answer). */
async function trackedCall(fake: FakeProvider, provider: "openai" | "azure_openai" | "gemini", i: number): Promise<string> {
  if (i % 7 === 6) {
    const body = provider === "gemini" ? loadFixture("gemini/error-500-internal") : loadFixture("openai/error-500-server-error");
    fake.enqueue({ status: 500, body });
  } else if (i % 11 === 10) {
    fake.enqueue({ body: provider === "gemini" ? loadFixture("gemini/prompt-blocked") : loadFixture("openai/chat-completion-refusal") });
  } else if (provider === "gemini" && i % 2 === 0) {
    fake.enqueue({ body: loadFixture("gemini/generate-content-thinking") });
  }
  try {
    await LLMTracker.callAndTrack({
      messages: [{ role: "user", content: `question ${i}` }],
      nodeName: nodes[Math.floor(i / 3) % nodes.length],
      state: { user_id: users[i % users.length], source_type: "demo", source_task_id: `demo-${i}` },
    });
    return "ok";
  } catch (error) {
    return (error as Error).constructor.name;
  }
}

async function main(): Promise<void> {
  const missing = await checkServices(databaseUrl, redisUrl);
  if (missing) {
    console.error(`llm-tracker demo: ${missing}`);
    rmSync(spoolDir, { recursive: true, force: true });
    process.exitCode = 1;
    return;
  }
  console.log(`llm-tracker demo: fake provider, queue "${queueName}", database ${new URL(databaseUrl).pathname.slice(1)}\n`);
  const fake = await startFakeProvider({ recordRequests: false });
  configure({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LLM_TRACKER_QUEUE: queueName, LLM_TRACKER_SPOOL_DIR: spoolDir, LLM_MAX_RETRIES: 0, LLM_TRACKER_LOG_LEVEL: "warn" });
  const worker = await startUsageWorker({ databaseUrl, redisUrl, queueName }); // applies the migrations first

  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const countRows = async () => (await sql<{ rows: number }[]>`select count(*)::int as rows from llm_tracker_usage`)[0]!.rows;
  const before = await countRows();

  const since = new Date(); // the stats below cover this run's calls only
  const outcomes = new Map<string, number>();
  const plan = [...Array(18).fill("openai"), ...Array(9).fill("azure_openai"), ...Array(9).fill("gemini")] as const;
  for (const [i, provider] of plan.entries()) {
    configure(providerSettings(fake, provider));
    const outcome = `${provider}: ${await trackedCall(fake, provider, i)}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  console.log("Calls made (outcome: count):");
  for (const [outcome, count] of [...outcomes].sort()) console.log(`  ${outcome.padEnd(40)} ${count}`);

  await flush();
  const expected = before + plan.length;
  const deadline = Date.now() + 30_000;
  let rows = before;
  while (rows < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    rows = await countRows();
  }
  console.log(`\nRows written by the worker: ${rows - before} of ${plan.length} calls\n`);

  console.log("getSummaryStats (this run):", await getSummaryStats(since, undefined, { db: sql }));
  console.log("\ngetStatsByModel:");
  console.table(await getStatsByModel(since, undefined, { db: sql }));
  console.log("getStatsByNode:");
  console.table(await getStatsByNode(since, undefined, { db: sql }));
  console.log("getStatsByUser:");
  console.table(await getStatsByUser(since, undefined, { db: sql }));

  await worker.close();
  await shutdown();
  await sql.end();
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  await queue.obliterate({ force: true });
  await queue.close();
  await fake.close();
  rmSync(spoolDir, { recursive: true, force: true });
  if (rows !== expected) {
    console.error(`demo: expected ${plan.length} new rows, found ${rows - before}`);
    process.exitCode = 1;
  } else {
    console.log(`Done. The rows stay in ${new URL(databaseUrl).pathname.slice(1)}; try: npx tsx src/cli/main.ts stats by-model --json (with DATABASE_URL set)`);
  }
}

main().catch((error: unknown) => {
  // One line, not a stack trace; our errors never carry a password.
  console.error(`llm-tracker demo failed: ${(error as Error).message}`);
  process.exit(1);
});
