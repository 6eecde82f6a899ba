/** Where a command writes and what it reads of its environment; `main.ts` binds it to the process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress lines are rewritten in place). */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Resolves when the user asks to stop (Ctrl-C); long-running commands end cleanly then. */
  readonly interrupted: Promise<void>;
  /** Reads one line of standard input (after `prompt` on a terminal); absent where there is none. */
  readLine?(prompt: string): Promise<string>;
}
