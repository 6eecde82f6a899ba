// Checks whether isolated-vm's startup snapshots (Isolate.createSnapshot) give
// correct isolates on this Node build. They would let each fresh isolate start
// with the runtime already loaded, but with isolated-vm 5.0.4 on Node 20 they
// do not: a global named with one character is missing, lazily compiled
// functions lose their closures' variables, and compiling everything eagerly
// while snapshotting (--no-lazy) instead corrupts one-character string
// constants ("=" reads back as "´"). Until this prints "usable", the runner
// loads the runtime from a V8 code cache instead (see README).
// Run: node --no-node-snapshot scripts/probe-snapshot.mjs
import { createRequire } from "node:module";
import v8 from "node:v8";

const require = createRequire(import.meta.url);
const ivm = require("isolated-vm");
const print = (line) => process.stdout.write(`${line}\n`);

const setup = `
globalThis.pair = function (a, b) { return a + "=" + b; };
globalThis.f = function () { return "f"; };
globalThis.closure = (function () { const k = 5; return function () { return k; }; })();
`;
const checks = [
  ["one-character string constants", `pair("ab", "cd")`, "ab=cd"],
  ["one-character global names", `typeof f`, "function"],
  ["closures compiled after the snapshot", `String(closure())`, "5"],
];

function probe(label, eager) {
  if (eager) v8.setFlagsFromString("--no-lazy");
  let snapshot;
  try {
    snapshot = ivm.Isolate.createSnapshot([{ code: setup, filename: "probe.js" }]);
  } finally {
    if (eager) v8.setFlagsFromString("--lazy");
  }
  const isolate = new ivm.Isolate({ snapshot });
  const context = isolate.createContextSync();
  let usable = true;
  for (const [what, code, expected] of checks) {
    let actual;
    try {
      actual = context.evalSync(code);
    } catch (err) {
      actual = `${err.name}: ${err.message}`;
    }
    const ok = actual === expected;
    usable &&= ok;
    print(
      `${label}: ${ok ? "ok  " : "FAIL"} ${what}: ${JSON.stringify(actual)}${ok ? "" : ` (expected ${JSON.stringify(expected)})`}`,
    );
  }
  isolate.dispose();
  return usable;
}

const lazy = probe("lazy ", false);
const eager = probe("eager", true);
const usable = lazy && eager;
const versions = `isolated-vm ${require("isolated-vm/package.json").version} on Node ${process.version}`;
print(`${versions}: snapshots ${usable ? "usable" : "NOT usable"}`);
process.exitCode = usable ? 0 : 1;
