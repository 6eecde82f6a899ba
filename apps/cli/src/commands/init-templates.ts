/**
 * The files `edgectl init` writes: a Workers-style script, a test that runs
 * it with `node --test` (no dependencies: Node's own Request and Response; a
 * `.ts` test runs under Node 24's type stripping), and npm scripts for dev,
 * test and deploy.
 */
export function starterFiles(name: string, ts: boolean): Record<string, string> {
  const ext = ts ? "ts" : "js";
  const script = `src/index.${ext}`;
  const files: Record<string, string> = {
    [script]: ts ? TS_SCRIPT : JS_SCRIPT,
    [`test/index.test.${ext}`]: ts ? TS_TEST : JS_TEST,
    "package.json": `${JSON.stringify(
      {
        name,
        version: "0.0.0",
        private: true,
        type: "module",
        scripts: {
          dev: `edgectl dev ${script} --name ${name}`,
          test: `node --test test/index.test.${ext}`,
          deploy: `edgectl deploy ${script} --name ${name}`,
        },
      },
      null,
      2,
    )}\n`,
    "README.md": readme(name),
    ".gitignore": "node_modules/\n",
  };
  if (ts) files["tsconfig.json"] = TSCONFIG;
  return files;
}

const JS_SCRIPT = `// A Workers-style script: one fresh isolate per request.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return Response.json({ hello: env.WHO ?? "world" });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const TS_SCRIPT = `// A Workers-style script: one fresh isolate per request.
interface Env {
  WHO?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return Response.json({ hello: env.WHO ?? "world" });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const JS_TEST = `import assert from "node:assert/strict";
import { test } from "node:test";
import worker from "../src/index.js";

test("greets the world on /", async () => {
  const response = await worker.fetch(new Request("http://example.localhost/"), {});
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { hello: "world" });
});

test("greets WHO when it is set", async () => {
  const response = await worker.fetch(new Request("http://example.localhost/"), { WHO: "edge" });
  assert.deepEqual(await response.json(), { hello: "edge" });
});

test("answers 404 elsewhere", async () => {
  const response = await worker.fetch(new Request("http://example.localhost/nope"), {});
  assert.equal(response.status, 404);
});
`;

const TS_TEST = JS_TEST.replace('"../src/index.js"', '"../src/index.ts"');

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2022", "DOM"],
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      types: [],
    },
    include: ["src", "test"],
  },
  null,
  2,
)}\n`;

function readme(name: string): string {
  return `# ${name}

A script for the edge platform.

\`\`\`sh
npm test          # node --test: the script's tests (TypeScript: Node.js 24)
npm run dev       # edgectl dev: http://${name}.localhost:8787/, reloads on save
npm run deploy    # edgectl deploy: a new version on every PoP
\`\`\`

\`npm run\` finds \`edgectl\` in this folder's or a parent folder's \`node_modules/.bin\` (inside a clone of
the platform, its own).
`;
}
