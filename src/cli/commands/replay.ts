// Placeholder until the replay command lands; see the open issues.
import { EXIT, type CliCommand } from "../run-cli.js";

const command: CliCommand = {
  summary: "(replay: not built yet)",
  help: "llm-tracker replay: not built yet",
  async run() {
    console.error("llm-tracker replay: not built yet");
    return EXIT.failure;
  },
};

export default command;
