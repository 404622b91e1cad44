// Placeholder until the worker command lands; see the open issues.
import { EXIT, type CliCommand } from "../run-cli.js";

const command: CliCommand = {
  summary: "(worker: not built yet)",
  help: "llm-tracker worker: not built yet",
  async run() {
    console.error("llm-tracker worker: not built yet");
    return EXIT.failure;
  },
};

export default command;
