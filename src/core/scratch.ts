import fs from 'node:fs/promises';
import path from 'node:path';

/** A new empty folder under Pave's work folder (`data.workDir`), for one run, push or checkout. */
export async function scratchDir(workDir: string, prefix: string): Promise<string> {
  await fs.mkdir(workDir, { recursive: true });
  return fs.mkdtemp(path.join(workDir, prefix));
}
