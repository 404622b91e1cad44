// Placeholder until the stats command lands; see the open issues.
import { EXIT, type CliCommand } from "../run-cli.js";

const command: CliCommand = {
  summary: "(stats: not built yet)",
  help: "llm-tracker stats: not built yet",
  async run() {
    console.error("llm-tracker stats: not built yet");
    return EXIT.failure;
  },
};

export default command;
