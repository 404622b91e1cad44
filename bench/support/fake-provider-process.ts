// Child-process entry: the fake provider on its own CPU, so the process being
// measured pays only for its own side of each call. Prints `listening <url>`.
// FAKE_PROVIDER_STREAMS (optional): JSON { openaiStream?, azureStream?, geminiStream? } of
// SSE file paths served by default on the streaming routes.
import { readFileSync } from "node:fs";
import { startFakeProvider } from "../../test/fake-provider/fake-provider.js";

const streamFiles = JSON.parse(process.env.FAKE_PROVIDER_STREAMS ?? "{}") as Record<string, string>;
const defaultStreams = Object.fromEntries(Object.entries(streamFiles).map(([route, path]) => [route, readFileSync(path, "utf8")]));
const provider = await startFakeProvider({ recordRequests: false, defaultStreams });
console.log(`listening ${provider.url}`);
process.once("SIGTERM", () => void provider.close().then(() => process.exit(0)));
