import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the
 * old file or the new one, never a mix: write a temp file beside it, fsync
 * it, rename it over `path` (atomic within a directory), then fsync the
 * directory so the rename itself is on disk.
 *
 * `syncDir: false` leaves the directory fsync to the caller, who writes many
 * files into one directory and syncs it once after the last (`syncDirectory`).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  options: { syncDir?: boolean } = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const file = await open(temp, "w", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (options.syncDir !== false) await syncDirectory(dir);
}

/** fsync on a directory persists its entries (the rename); not every platform allows it. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory fsync: the rename is still atomic.
  } finally {
    await handle?.close();
  }
}
