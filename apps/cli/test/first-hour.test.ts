import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS, EXAMPLES, type Io, run } from "../src/index.js";
import { edgectl, startApi, TOKEN } from "./support.js";

describe("edgectl init", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "edgectl-init-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a JavaScript starter whose own test passes with node --test", async () => {
    const result = await edgectl(["init", "hello"], {}, dir);
    expect(result.code).toBe(0);
    expect(result.out).toContain("npm run dev");
    for (const file of ["src/index.js", "test/index.test.js", "package.json", "README.md"])
      expect(existsSync(join(dir, "hello", file))).toBe(true);
    const pkg = JSON.parse(readFileSync(join(dir, "hello", "package.json"), "utf8"));
    expect(pkg.scripts.deploy).toBe("edgectl deploy src/index.js --name hello");
    const test = spawnSync(process.execPath, ["--test", "test/index.test.js"], {
      cwd: join(dir, "hello"),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/pass 3/);
  });

  it("writes a TypeScript starter with --ts whose test passes under Node's type stripping", async () => {
    const result = await edgectl(["init", "typed", "--ts"], {}, dir);
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, "typed", "src/index.ts"), "utf8")).toContain("interface Env");
    const test = spawnSync(process.execPath, ["--test", "test/index.test.ts"], {
      cwd: join(dir, "typed"),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/pass 3/);
  });

  it("leaves a folder that is not empty alone and refuses a bad name, with exit 2", async () => {
    writeFileSync(join(dir, "keep.txt"), "x");
    const again = await edgectl(["init", "hello"], {}, dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain("already exists");
    expect((await edgectl(["init", "Bad_Name"], {}, dir)).code).toBe(2);
  });
});

describe("edgectl login and whoami", () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;
  beforeAll(async () => {
    api = await startApi();
    dir = mkdtempSync(join(tmpdir(), "edgectl-login-"));
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("saves the API URL and a token the API accepts in a 0600 config file, which later commands use", async () => {
    const config = join(dir, "edgectl", "config.json");
    const login = await edgectl(["login", "--api-url", api.url, "--token", TOKEN], {
      EDGECTL_CONFIG: config,
    });
    expect(login.code, login.err).toBe(0);
    expect(JSON.parse(readFileSync(config, "utf8"))).toEqual({ apiUrl: api.url, token: TOKEN });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const whoami = await edgectl(["whoami"], { EDGECTL_CONFIG: config });
    expect(whoami.code).toBe(0);
    expect(whoami.out).toContain(`api     ${api.url}  (from ${config})`);
    expect(whoami.out).toContain("the API accepts this token");
    expect(whoami.out).not.toContain(TOKEN);
    expect((await edgectl(["list"], { EDGECTL_CONFIG: config })).code).toBe(0);
  });

  it("reads the token from standard input when no flag or variable gives one", async () => {
    const config = join(dir, "stdin.json");
    let out = "";
    const io: Io = {
      out: (t) => {
        out += t;
      },
      err: () => {},
      isTTY: false,
      env: { EDGECTL_CONFIG: config },
      cwd: dir,
      interrupted: new Promise(() => {}),
      readLine: async () => `${TOKEN}\n`,
    };
    expect(await run(["login", "--api-url", api.url], io)).toBe(0);
    expect(out).toContain(`logged in to ${api.url}`);
    expect(JSON.parse(readFileSync(config, "utf8")).token).toBe(TOKEN);
  });

  it("saves nothing when the API refuses the token (exit 5) or cannot be reached (exit 6)", async () => {
    const config = join(dir, "refused.json");
    const refused = await edgectl(["login", "--api-url", api.url, "--token", "wrong-token"], {
      EDGECTL_CONFIG: config,
    });
    expect(refused.code).toBe(5);
    const unreachable = await edgectl(["login", "--api-url", "http://127.0.0.1:1", "--token", TOKEN], {
      EDGECTL_CONFIG: config,
    });
    expect(unreachable.code).toBe(6);
    expect(existsSync(config)).toBe(false);
  });

  it("lets EDGE_API_URL and EDGE_API_TOKEN win over the saved file, and says where each came from", async () => {
    const config = join(dir, "edgectl", "config.json");
    const whoami = await edgectl(["whoami", "--json"], {
      EDGECTL_CONFIG: config,
      EDGE_API_TOKEN: "not-the-saved-one",
    });
    expect(whoami.code).toBe(5);
    expect(JSON.parse(whoami.out)).toMatchObject({
      apiUrl: api.url,
      tokenFrom: "EDGE_API_TOKEN",
      accepted: false,
    });
  });
});

describe("edgectl deploy's URLs", () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;
  beforeAll(async () => {
    api = await startApi();
    dir = mkdtempSync(join(tmpdir(), "edgectl-urls-"));
    writeFileSync(join(dir, "hello.js"), 'export default { fetch() { return new Response("hi"); } };\n');
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the script's URL through the router, on EDGE_ROUTER_URL's host and port", async () => {
    const env = { EDGE_API_URL: api.url, EDGE_API_TOKEN: TOKEN, EDGE_ROUTER_URL: "http://localhost:18000" };
    const result = await edgectl(["deploy", "hello.js", "--name", "hello"], env, dir);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/router\s+http:\/\/hello\.localhost:18000\/ {2}\(nearest PoP\)/);
    const json = await edgectl(["deploy", "hello.js", "--name", "hello", "--json"], env, dir);
    expect(JSON.parse(json.out).urls).toEqual({ pops: {}, router: "http://hello.localhost:18000/" });
  });
});

describe("edgectl help and completion", () => {
  it("gives every command a --help with its usage and examples", async () => {
    for (const command of COMMANDS) {
      const help = await edgectl([command.name, "--help"], {});
      expect(help.code).toBe(0);
      expect(help.out).toContain(`usage: edgectl ${command.usage}`);
      expect(help.out).toContain("examples:");
      expect(EXAMPLES[command.name]?.length).toBeGreaterThan(0);
    }
  });

  it("prints a bash completion script that bash accepts and that completes commands and flags", async () => {
    const script = await edgectl(["completion", "bash"], {});
    expect(script.code).toBe(0);
    const probe = `${script.out}
COMP_WORDS=(edgectl de); COMP_CWORD=1; _edgectl; echo "1:\${COMPREPLY[*]}"
COMP_WORDS=(edgectl deploy --na); COMP_CWORD=2; _edgectl; echo "2:\${COMPREPLY[*]}"`;
    const bash = spawnSync("bash", ["-c", probe], { encoding: "utf8", timeout: 10_000 });
    expect(bash.status, bash.stderr).toBe(0);
    expect(bash.stdout).toContain("1:deploy delete dev");
    expect(bash.stdout).toContain("2:--name");
  });

  it("prints a zsh completion script naming every command, and refuses another shell with exit 2", async () => {
    const zsh = await edgectl(["completion", "zsh"], {});
    expect(zsh.code).toBe(0);
    expect(zsh.out.startsWith("#compdef edgectl")).toBe(true);
    for (const command of COMMANDS) expect(zsh.out).toContain(`'${command.name}:`);
    expect((await edgectl(["completion", "fish"], {})).code).toBe(2);
  });
});
