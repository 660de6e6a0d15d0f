import fs from 'node:fs/promises';
import path from 'node:path';

/** A new empty folder under Pave's work folder (`data.workDir`), for one run, push or checkout. */
export async function scratchDir(workDir: string, prefix: string): Promise<string> {
  await fs.mkdir(workDir, { recursive: true });
  return fs.mkdtemp(path.join(workDir, prefix));
}

/**
 * Removes what a killed process left in the work folder: every folder in it untouched for
 * `olderThanMs` (0: everything, when this process owns the folder alone). A live run touches its
 * folder as it goes, so an hour untouched is a run that is gone.
 */
export async function removeLeftovers(workDir: string, olderThanMs: number): Promise<number> {
  const entries = await fs.readdir(workDir).catch(() => [] as string[]);
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of entries) {
    const full = path.join(workDir, name);
    const stat = await fs.lstat(full).catch(() => undefined);
    if (!stat || (olderThanMs > 0 && stat.mtimeMs > cutoff)) continue;
    await fs.rm(full, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
