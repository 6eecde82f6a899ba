#!/usr/bin/env node
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { run } from "./cli.js";
import type { Io } from "./io.js";

// Only binds the CLI to this process: streams, environment, Ctrl-C, exit code.
let interrupt: () => void = () => {};
const interrupted = new Promise<void>((resolve) => {
  interrupt = resolve;
});
let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second Ctrl-C does not wait for a clean stop.
    if (++interrupts > 1) process.exit(130);
    interrupt();
  });
}

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
  interrupted,
  readLine: (prompt) => readSecretLine(prompt),
};

const code = await run(process.argv.slice(2), io);
// Let stdout drain (it may be a pipe) before leaving.
process.stdout.write("", () => process.exit(code));

/** One line of standard input; on a terminal, after `prompt` on stderr, without echoing what is typed (a token). */
function readSecretLine(prompt: string): Promise<string> {
  const tty = process.stdin.isTTY === true;
  if (tty) process.stderr.write(prompt);
  // Echo goes nowhere: the terminal shows the prompt, not the token.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: tty });
  return new Promise((resolve) => {
    let answered = false;
    rl.question("", (line) => {
      answered = true;
      if (tty) process.stderr.write("\n");
      rl.close();
      resolve(line);
    });
    rl.on("close", () => {
      if (!answered) resolve("");
    });
  });
}
