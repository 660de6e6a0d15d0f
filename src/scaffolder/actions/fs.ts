import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import fg from 'fast-glob';
import yaml from 'yaml';
import { badInput } from '../../core/errors.ts';
import { defineAction } from '../action.ts';
import { isWithin, pathExists, resolveInside } from './fetch-source.ts';

/** `fs:rename` and `fs:delete`: moving and removing files and folders, inside the workspace only. */

const RenameInput = Type.Object({
  files: Type.Array(
    Type.Object({
      from: Type.String({ title: 'The file or folder to rename, relative to the workspace' }),
      to: Type.String({ title: 'Its new path, relative to the workspace' }),
      overwrite: Type.Optional(Type.Boolean({ title: 'Replace what is already at the new path (false by default)' })),
    }),
    { title: 'Files', description: 'The files and folders to rename, in order' },
  ),
});

export type RenameInput = Static<typeof RenameInput>;

function checkFiles(files: unknown): unknown[] {
  if (!Array.isArray(files)) throw badInput('ACTION_INPUT_INVALID', `files must be a list, got ${JSON.stringify(files)}`, { field: 'files', value: files });
  return files;
}

export const fsRename = defineAction<RenameInput>({
  id: 'fs:rename',
  description: 'Renames (moves) files and folders within the workspace.',
  schema: { input: RenameInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Rename three files; the third replaces a file already at its new name.',
      example: yaml.stringify({
        steps: [
          {
            id: 'renameFiles',
            name: 'Rename files',
            action: 'fs:rename',
            input: {
              files: [
                { from: 'file1.txt', to: 'file1Renamed.txt' },
                { from: 'file2.txt', to: 'file2Renamed.txt' },
                { from: 'file3.txt', to: 'file3Renamed.txt', overwrite: true },
              ],
            },
          },
        ],
      }),
    },
  ],
  async handler(ctx) {
    const files = checkFiles(ctx.input?.files);
    for (const [i, file] of files.entries()) {
      const { from, to, overwrite } = (file ?? {}) as { from?: unknown; to?: unknown; overwrite?: unknown };
      if (typeof from !== 'string' || from === '' || typeof to !== 'string' || to === '') {
        throw badInput('ACTION_INPUT_INVALID', `files[${i}] must have a from and a to path, got ${JSON.stringify(file)}`, { field: `files[${i}]`, value: file });
      }
      const source = await resolveInside(ctx.workspacePath, from, `files[${i}].from`);
      const destination = await resolveInside(ctx.workspacePath, to, `files[${i}].to`);
      if (source === ctx.workspacePath || destination === ctx.workspacePath) {
        throw badInput('ACTION_INPUT_INVALID', `files[${i}] renames the workspace itself; from and to must name something inside it`, { field: `files[${i}]`, value: file });
      }
      if (!(await pathExists(source))) {
        throw badInput('FS_RENAME_SOURCE_MISSING', `files[${i}].from "${from}" does not exist in the workspace, so it cannot be renamed`, { field: `files[${i}].from`, value: from });
      }
      if (isWithin(source, destination)) {
        throw badInput('ACTION_INPUT_INVALID', `files[${i}] moves "${from}" to "${to}", which is the same path or inside it`, { field: `files[${i}].to`, value: to });
      }
      if (await pathExists(destination)) {
        if (overwrite !== true) {
          throw badInput('FS_RENAME_TARGET_EXISTS', `files[${i}].to "${to}" already exists; set overwrite: true to replace it`, { field: `files[${i}].to`, value: to });
        }
        await rm(destination, { recursive: true, force: true });
      }
      await mkdir(path.dirname(destination), { recursive: true });
      await rename(source, destination);
      ctx.log(`Renamed ${from} to ${to}`);
    }
  },
});

const DeleteInput = Type.Object({
  files: Type.Array(Type.String(), { title: 'Files', description: 'Paths or glob patterns, relative to the workspace, of the files and folders to delete' }),
});

export type DeleteInput = Static<typeof DeleteInput>;

export const fsDelete = defineAction<DeleteInput>({
  id: 'fs:delete',
  description: 'Deletes files and folders from the workspace; entries may be glob patterns.',
  schema: { input: DeleteInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Delete two files.',
      example: yaml.stringify({ steps: [{ id: 'deleteFiles', name: 'Delete files', action: 'fs:delete', input: { files: ['file1.txt', 'file2.txt'] } }] }),
    },
    {
      description: 'Delete every .txt file at the root of the workspace.',
      example: yaml.stringify({ steps: [{ id: 'deleteFiles', name: 'Delete files', action: 'fs:delete', input: { files: ['*.txt'] } }] }),
    },
  ],
  async handler(ctx) {
    const files = checkFiles(ctx.input?.files);
    for (const [i, file] of files.entries()) {
      if (typeof file !== 'string' || file === '') {
        throw badInput('ACTION_INPUT_INVALID', `files[${i}] must be a path or glob pattern, got ${JSON.stringify(file)}`, { field: `files[${i}]`, value: file });
      }
      // Glob patterns take `/` only; `.\\name` is a Windows-style path.
      const pattern = file.replace(/\\/g, '/');
      const resolved = await resolveInside(ctx.workspacePath, pattern, `files[${i}]`);
      if (resolved === ctx.workspacePath) {
        throw badInput('ACTION_INPUT_INVALID', `files[${i}] "${file}" is the workspace itself; name files or folders inside it`, { field: `files[${i}]`, value: file });
      }
      const relative = path.relative(ctx.workspacePath, resolved).split(path.sep).join('/');
      const matches = fg.isDynamicPattern(relative)
        ? await fg(relative, { cwd: ctx.workspacePath, dot: true, onlyFiles: false, followSymbolicLinks: false })
        : [relative];
      for (const match of matches) {
        await rm(await resolveInside(ctx.workspacePath, match, `files[${i}]`), { recursive: true, force: true });
      }
      ctx.log(matches.length === 1 && matches[0] === relative ? `Deleted ${file}` : `Deleted ${matches.length} entries matching ${file}`);
    }
  },
});
