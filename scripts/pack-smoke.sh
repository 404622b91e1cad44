#!/usr/bin/env bash
# Proves the published package works, starting where a new user or CI starts:
# a clean clone of this checkout's HEAD (no dist/, no node_modules). There:
# `npm ci`, `npm pack` (whose `prepack` builds), then install the tarball into an
# empty project, import both entry points, make one call against a local
# OpenAI-compatible server, and run the `llm-tracker` bin (migrate included).
# Only what is committed is packed: uncommitted changes are not part of HEAD.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

head="$(git -C "$root" rev-parse HEAD)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "pack smoke: note: uncommitted changes are not packed; testing HEAD ${head:0:12}" >&2
fi
git clone --quiet --no-checkout "$root" "$work/clone"
git -C "$work/clone" checkout --quiet --detach "$head"
cd "$work/clone"
test ! -e dist # the point of the exercise: nothing built yet
npm ci --no-audit --no-fund --prefer-offline --silent
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
contents="$(tar -tzf "$work/$tarball")"
echo "packed $tarball from a clean clone of ${head:0:12} ($(du -h "$work/$tarball" | cut -f1), $(wc -l <<<"$contents") files)"
# A tarball without the compiled entry points would install and then fail on import.
for entry in dist/src/index.js dist/src/stats/index.js dist/workers/usage-worker.js dist/src/cli/main.js drizzle/meta/_journal.json; do
  grep -qx "package/$entry" <<<"$contents" || { echo "pack smoke: $entry is missing from the tarball" >&2; exit 1; }
done

mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline --silent "$work/$tarball"

cat > smoke.mjs <<'JS'
import { createServer } from "node:http";
import assert from "node:assert/strict";
import { configure, getLlmService, ConfigError } from "llm-tracker";
import * as stats from "llm-tracker/stats";

assert.equal(typeof stats.getSummaryStats, "function");
assert.equal(typeof stats.getStatsByDay, "function");

// A chat completion body in the shape of OpenAI's API reference.
const body = {
  id: "chatcmpl-smoke", object: "chat.completion", created: 1764400000, model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: "pong", refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
};
const seen = [];
const server = createServer((req, res) => {
  seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
  req.resume();
  req.on("end", () => { res.setHeader("content-type", "application/json"); res.end(JSON.stringify(body)); });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const { port } = server.address();

assert.throws(() => { configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: {} }); getLlmService(); }, ConfigError);
configure({ LLM_PROVIDER: "openai", OPENAI_CONFIG: { api_key: "sk-smoke", base_url: `http://127.0.0.1:${port}/v1` } });
const result = await getLlmService().chat({ messages: [{ role: "user", content: "ping" }] });
assert.equal(result.content, "pong");
assert.deepEqual(result.usage, { model: "gpt-4o-mini-2024-07-18", prompt_tokens: 9, completion_tokens: 1, total_tokens: 10, cached_tokens: 0, reasoning_tokens: 0 });
assert.deepEqual(seen, ["POST /v1/chat/completions Bearer sk-smoke"]);

// The integrations without the optional peer `ai`, which npm does not install. (@opentelemetry/api
// arrives with prom-client; it is not loaded while no OpenTelemetry SDK is registered.)
const { createRequire } = await import("node:module");
assert.throws(() => createRequire(import.meta.url).resolve("ai"), /Cannot find module/);
const { default: OpenAI } = await import("openai");
const { trackOpenAI, llmTrackerMiddleware, withTracking, flush, shutdown } = await import("llm-tracker");
configure({ LLM_TRACKER_QUEUE: process.env.SMOKE_QUEUE, LLM_TRACKER_HANDLE_SIGNALS: false });
const openai = trackOpenAI(new OpenAI({ apiKey: "sk-smoke", baseURL: `http://127.0.0.1:${port}/v1` }), { nodeName: "smoke" });
const { data, request_id } = await withTracking({ state: { user_id: "smoke" } }, () => openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "ping" }] }).withResponse());
assert.equal(data.choices[0].message.content, "pong");
assert.equal(request_id, null);
assert.equal(llmTrackerMiddleware().specificationVersion, "v3");
await flush();
await shutdown();
server.close();
console.log("pack smoke: imports, call and usage OK; trackOpenAI without the AI SDK installed OK");
JS
queue="llmt-pack-smoke-$$"
SMOKE_QUEUE="$queue" node smoke.mjs
redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "bull:$queue:*" | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null
npx --no-install llm-tracker --help | head -n 3

# The shipped migrations apply from the installed package (the bin creates the database).
db="llmt_pack_smoke_$$"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" npx --no-install llm-tracker migrate
psql -h 127.0.0.1 -U postgres -d "$db" -tAc "select count(*) from llm_tracker_usage" | grep -qx 0

# The dashboard serves its page, its scripts and Chart.js from the installed package.
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" ./node_modules/.bin/llm-tracker dashboard --port 0 > dashboard.log 2>&1 &
dashboard_pid=$!
for _ in $(seq 1 100); do grep -q "llm-tracker dashboard: http" dashboard.log && break; sleep 0.1; done
url="$(grep -o 'http://[^ ]*' dashboard.log | head -n 1)"
for path in "" assets/dashboard.js assets/chart.umd.min.js api/summary; do curl -fsS -o "fetched-${path//\//-}" "${url}${path}"; done
grep -q '<title>llm-tracker' fetched-
grep -q 'import' fetched-assets-dashboard.js
grep -q 'Chart.js v4' fetched-assets-chart.umd.min.js
grep -q '"total_calls":0' fetched-api-summary
kill "$dashboard_pid"
wait "$dashboard_pid" || true
echo "pack smoke: dashboard serves its page from the package"
psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database \"$db\" with (force)"
echo "pack smoke: passed"
