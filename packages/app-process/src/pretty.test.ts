import { describe, expect, it } from "vitest";
import { formatLogLine, wantsColor } from "./pretty.js";

const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe("the pretty log format", () => {
  it("prints time, process name, level and message first, then the other fields as key=value", () => {
    const line = JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: "h",
      service: "edge-node",
      msg: "edge node listening",
      httpPort: 8101,
      pop: "fra",
    });
    expect(formatLogLine(line, { name: "fra", color: false })).toBe(
      "03:04:05.678 fra INFO  edge node listening httpPort=8101 pop=fra",
    );
  });

  it("names the process by the record's service when no name is given", () => {
    const line = JSON.stringify({ level: 40, time, service: "router", msg: "node view stale" });
    expect(formatLogLine(line, { color: false })).toBe("03:04:05.678 router WARN  node view stale");
  });

  it("colours the level when colours are on, and not otherwise", () => {
    const line = JSON.stringify({ level: 50, time, msg: "boom" });
    expect(formatLogLine(line, { name: "cp", color: true })).toContain("\x1b[31mERROR\x1b[0m");
    expect(formatLogLine(line, { name: "cp", color: false })).not.toContain("\x1b[");
  });

  it("shows an error as type and message, and its stack on indented lines for error levels", () => {
    const err = {
      type: "Error",
      message: "listen EADDRINUSE",
      code: "EADDRINUSE",
      stack: "Error: listen EADDRINUSE\n    at a (x.js:1:1)",
    };
    const line = JSON.stringify({ level: 60, time, msg: "failed to start", err });
    expect(formatLogLine(line, { name: "cp", color: false })).toBe(
      '03:04:05.678 cp FATAL failed to start err="Error: listen EADDRINUSE [EADDRINUSE]"\n    at a (x.js:1:1)',
    );
  });

  it("quotes values with spaces and prints objects as JSON", () => {
    const line = JSON.stringify({ level: 30, time, msg: "m", reason: "a b", limits: { cpuMs: 5 } });
    expect(formatLogLine(line, { name: "x", color: false })).toBe(
      '03:04:05.678 x INFO  m reason="a b" limits={"cpuMs":5}',
    );
  });

  it("passes a line that is not JSON through after the name", () => {
    expect(formatLogLine("Segmentation fault", { name: "sin", color: false })).toBe("sin Segmentation fault");
  });

  it("colours a terminal unless NO_COLOR is set, and a pipe only with FORCE_COLOR", () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
  });
});
