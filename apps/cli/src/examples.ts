/** Examples `edgectl <command> --help` ends with, by command (every command has some; a test checks). */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: ["edgectl init hello", "edgectl init api --ts"],
  deploy: [
    "edgectl deploy hello.js --name hello",
    "edgectl deploy src/index.ts --name api --var WHO=edge --secret API_KEY --cpu-ms 20",
    "edgectl deploy hello.js --name hello --no-wait --json",
  ],
  list: ["edgectl list", "edgectl list --json"],
  versions: ["edgectl versions hello"],
  rollback: ["edgectl rollback hello --to 3"],
  delete: ["edgectl delete hello"],
  trigger: ["edgectl trigger digest", "edgectl trigger digest --cron '0 8 * * MON-FRI' --json"],
  nodes: ["edgectl nodes", "edgectl nodes --json"],
  tail: ["edgectl tail hello", "edgectl tail hello --status 5xx --pop fra --search checkout --sample 0.5"],
  logs: ["edgectl logs hello --since 30m --status error"],
  metrics: ["edgectl metrics hello --since 6h --pop iad"],
  route: ["edgectl route --ip 203.0.113.7", "edgectl route --lat 50.1 --lon 8.7"],
  dev: ["edgectl dev hello.js", "edgectl dev src/index.ts --name api --port 8787 --var WHO=dev"],
  login: [
    "edgectl login --api-url http://127.0.0.1:8080 --token dev-admin-token",
    'echo "$TOKEN" | edgectl login --api-url https://edge.example.com',
  ],
  whoami: ["edgectl whoami", "EDGE_API_URL=http://127.0.0.1:8080 edgectl whoami --json"],
  completion: ["source <(edgectl completion bash)", "edgectl completion zsh > ~/.zfunc/_edgectl"],
  kv: [
    "edgectl kv namespace create sessions",
    'edgectl kv key put sessions user:1 \'{"plan":"pro"}\' --ttl 3600',
    "edgectl kv key list sessions --prefix user:",
  ],
};
