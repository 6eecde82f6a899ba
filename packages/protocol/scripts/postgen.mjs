// Runs after `buf generate`: writes nothing by hand into generated files, only
// checks that generation produced the module the package face re-exports.
import { existsSync } from "node:fs";

const expected = new URL("../src/generated/edge/v1/control.ts", import.meta.url);
if (!existsSync(expected)) {
  process.stderr.write(`protocol: buf generate did not produce ${expected.pathname}\n`);
  process.exit(1);
}
