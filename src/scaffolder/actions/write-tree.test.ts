import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPaveError } from '../../core/errors.ts';
import { listTree, writeTree } from './fetch-source.ts';
import { skeletonRenderer } from './fetch-template.ts';

// The tree writer behind fetch:template, fetch:plain and fetch:cookiecutter copies with
// synchronous calls in batches; these check what that must not change.

let root: string;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pave-write-tree-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function folders(files: Record<string, string>): Promise<{ source: string; output: string }> {
  n += 1;
  const source = path.join(root, `source-${n}`);
  const output = path.join(root, `output-${n}`);
  await mkdir(output, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(source, name)), { recursive: true });
    await writeFile(path.join(source, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  }
  return { source, output };
}

async function write(source: string, output: string, values: Record<string, unknown>) {
  const render = skeletonRenderer({ values }, { backstageFilters: true });
  return writeTree({
    sourceDir: source,
    outputDir: output,
    workspacePath: output,
    entries: await listTree(source),
    replace: false,
    render,
    plan: (entry) => ({ target: render(entry, `the path ${entry}`), render: true }),
  });
}

describe('writing a skeleton into the workspace', () => {
  test('a skeleton larger than one batch is written whole: every file rendered, modes kept', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`d${i % 7}/f${i}.txt`] = `file ${i} of \${{ values.name }}\n`;
    files['bin/run.sh'] = '#!/bin/sh\necho ${{ values.name }}\n';
    const { source, output } = await folders(files);
    const result = await write(source, output, { name: 'payments' });
    assert.equal(result.written, 151, 'every file is written');
    for (let i = 0; i < 150; i++) assert.equal(await readFile(path.join(output, `d${i % 7}/f${i}.txt`), 'utf8'), `file ${i} of payments\n`);
    assert.equal((await stat(path.join(output, 'bin/run.sh'))).mode & 0o777, 0o755, 'the script stays executable');
  });

  test('a path that cannot be rendered fails before anything is written', async () => {
    const { source, output } = await folders({ 'a.txt': 'first', 'b/${{ values.name | noSuchFilter }}.txt': 'broken', 'c.txt': 'last' });
    await assert.rejects(write(source, output, { name: 'x' }), (e: unknown) => isPaveError(e) && e.code === 'TEMPLATE_RENDER_FAILED');
    assert.deepEqual(await readdir(output), [], 'the workspace is untouched');
  });

  test('a folder of the workspace that is a link to elsewhere is not written through', async () => {
    const { source, output } = await folders({ 'out/secret.txt': 'written?' });
    const elsewhere = path.join(root, `elsewhere-${n}`);
    await mkdir(elsewhere);
    // Planted by hand: Pave's own actions refuse to create such a link.
    await symlink(elsewhere, path.join(output, 'out'));
    await assert.rejects(write(source, output, {}), (e: unknown) => isPaveError(e) && e.code === 'WORKSPACE_PATH_OUTSIDE');
    assert.deepEqual(await readdir(elsewhere), [], 'nothing was written outside the workspace');
  });

  test('files already in the workspace are kept unless replace is set', async () => {
    const { source, output } = await folders({ 'keep.txt': 'from the skeleton', 'new.txt': 'new' });
    await writeFile(path.join(output, 'keep.txt'), 'already there');
    const result = await write(source, output, {});
    assert.deepEqual(result, { written: 1, skipped: 1 });
    assert.equal(await readFile(path.join(output, 'keep.txt'), 'utf8'), 'already there');
  });
});
