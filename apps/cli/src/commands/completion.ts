import type { Command } from "../command.js";
import { EXIT, usage } from "../errors.js";

const GLOBAL_FLAGS = ["--json", "--api-url", "--token", "--help"];

/** `--name`, `--var`, ... for one command, with the global ones. */
function flags(command: Command): string[] {
  return [...Object.keys(command.options).map((o) => `--${o}`), ...GLOBAL_FLAGS];
}

/** A bash completion script: command names, then each command's flags, else file names. */
export function bashCompletion(commands: readonly Command[]): string {
  const cases = commands.map((c) => `    ${c.name}) opts="${flags(c).join(" ")}" ;;`).join("\n");
  return `# edgectl completion for bash: source <(edgectl completion bash)
_edgectl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _edgectl edgectl
`;
}

/** A zsh completion script: described command names, then each command's flags and files. */
export function zshCompletion(commands: readonly Command[]): string {
  const described = commands.map(
    (c) => `    '${c.name}:${c.summary.replaceAll("'", "'\\''").replaceAll(":", "\\:")}'`,
  );
  const cases = commands.map(
    (c) => `    ${c.name}) _alternative 'flags:flag:(${flags(c).join(" ")})' 'files:file:_files' ;;`,
  );
  return `#compdef edgectl
# edgectl completion for zsh: source <(edgectl completion zsh), or save as _edgectl in your $fpath
_edgectl() {
  local -a commands
  commands=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases.join("\n")}
  esac
}
if [ "$funcstack[1]" = "_edgectl" ]; then
  _edgectl "$@"
else
  compdef _edgectl edgectl
fi
`;
}

/** `edgectl completion bash|zsh`; the command list is given late, as it includes this command. */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    name: "completion",
    summary: "Print a shell completion script for bash or zsh",
    usage: "completion <bash|zsh>",
    help: [
      "bash: add `source <(edgectl completion bash)` to ~/.bashrc",
      "zsh:  add `source <(edgectl completion zsh)` to ~/.zshrc (after compinit)",
    ],
    positionals: ["shell"],
    options: {},
    async run(ctx) {
      const shell = ctx.positionals[0];
      if (shell === "bash") ctx.io.out(bashCompletion(commands()));
      else if (shell === "zsh") ctx.io.out(zshCompletion(commands()));
      else throw usage(`completion: unknown shell ${JSON.stringify(shell)}; use bash or zsh`);
      return EXIT.OK;
    },
  };
}
