import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { removeLeftovers, scratchDir } from './scratch.ts';

test('leftovers of a killed process are removed from the work folder; recent folders stay unless all are asked for', async () => {
  const workDir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'pave-scratch-')), 'work');
  const old = await scratchDir(workDir, 'task-old-');
  const recent = await scratchDir(workDir, 'task-new-');
  await fs.writeFile(path.join(old, 'file.txt'), 'left behind');
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  await fs.utimes(old, twoHoursAgo, twoHoursAgo);
  assert.equal(await removeLeftovers(workDir, 3_600_000), 1, 'one folder removed');
  assert.deepEqual(await fs.readdir(workDir), [path.basename(recent)], 'the recent folder stays');
  assert.equal(await removeLeftovers(workDir, 0), 1, 'with 0, everything goes');
  assert.deepEqual(await fs.readdir(workDir), []);
  assert.equal(await removeLeftovers(path.join(workDir, 'missing'), 0), 0, 'a work folder that does not exist yet is fine');
  await fs.rm(path.dirname(workDir), { recursive: true, force: true });
});
