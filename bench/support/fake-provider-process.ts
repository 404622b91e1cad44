// Child-process entry: the fake provider on its own CPU, so the process being
// measured pays only for its own side of each call. Prints `listening <url>`.
import { startFakeProvider } from "../../test/fake-provider/fake-provider.js";

const provider = await startFakeProvider({ recordRequests: false });
console.log(`listening ${provider.url}`);
process.once("SIGTERM", () => void provider.close().then(() => process.exit(0)));
