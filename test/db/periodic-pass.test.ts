import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startPeriodicPass } from "../../src/db/periodic-pass.js";

/** A pass the test lets finish when it chooses. */
function gatedPass() {
  let started = 0;
  let release: () => void = () => {};
  const pass = () => {
    started += 1;
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  };
  return { pass, started: () => started, release: () => release() };
}

describe("startPeriodicPass", () => {
  it("runs the first pass at once and skips the ticks that come while a pass still runs", async () => {
    const gate = gatedPass();
    const periodic = startPeriodicPass(2, gate.pass);
    expect(gate.started()).toBe(1);
    await sleep(40); // many intervals while the first pass hangs
    expect(gate.started()).toBe(1);
    gate.release();
    await periodic.firstPass;
    while (gate.started() < 2) await sleep(2);
    gate.release();
    await periodic.stop();
  });

  it("stop() waits for the running pass, and no pass starts after it", async () => {
    const gate = gatedPass();
    const periodic = startPeriodicPass(2, gate.pass);
    let stopped = false;
    const stopping = periodic.stop().then(() => {
      stopped = true;
    });
    await sleep(10);
    expect(stopped).toBe(false);
    gate.release();
    await stopping;
    const passes = gate.started();
    await sleep(20);
    expect(gate.started()).toBe(passes);
    expect(periodic.stop()).toBe(periodic.stop()); // idempotent: the same promise
  });
});
