import { chmod, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import yaml from 'yaml';
import { badInput } from '../../core/errors.ts';
import { defineAction } from '../action.ts';
import { listTree, resolveInside, resolveTemplateSource, writeTree } from './fetch-source.ts';

/** `fetch:plain` and `fetch:plain:file`: a folder or a file copied into the workspace as it is, over what is there. */

const FetchPlainInput = Type.Object({
  url: Type.String({ title: 'Fetch URL', description: 'Path of the folder to copy, relative to the template\'s folder' }),
  targetPath: Type.Optional(Type.String({ title: 'Target Path', description: 'Folder inside the workspace to copy into; the workspace root when left out' })),
  token: Type.Optional(Type.String({ title: 'Token', description: 'Token for reading from an SCM host; not used for local folders' })),
});

export type FetchPlainInput = Static<typeof FetchPlainInput>;

export const fetchPlain = defineAction<FetchPlainInput>({
  id: 'fetch:plain',
  description: 'Copies a folder into the workspace (or the `targetPath` folder in it) without rendering anything.',
  schema: { input: FetchPlainInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Copy the assets folder that sits beside the template into the workspace.',
      example: yaml.stringify({ steps: [{ id: 'fetch-plain', name: 'Fetch plain', action: 'fetch:plain', input: { url: './assets' } }] }),
    },
    {
      description: 'Copy it into a folder of the workspace instead of its root.',
      example: yaml.stringify({
        steps: [{ id: 'fetch-plain', name: 'Fetch plain', action: 'fetch:plain', input: { url: './assets', targetPath: 'fetched-data' } }],
      }),
    },
  ],
  async handler(ctx) {
    const targetPath = ctx.input.targetPath ?? './';
    const outputDir = await resolveInside(ctx.workspacePath, targetPath, 'targetPath');
    const sourceDir = await resolveTemplateSource(ctx.templateInfo.baseUrl, ctx.input.url, 'directory');
    const entries = await listTree(sourceDir);
    const result = await writeTree({
      sourceDir,
      outputDir,
      workspacePath: ctx.workspacePath,
      entries,
      replace: true,
      plan: (entry) => ({ target: entry, render: false }),
    });
    ctx.log(`Copied ${result.written} files from ${ctx.input.url} to ${targetPath}`);
  },
});

const FetchPlainFileInput = Type.Object({
  url: Type.String({ title: 'Fetch URL', description: 'Path of the file to copy, relative to the template\'s folder' }),
  targetPath: Type.String({ title: 'Target Path', description: 'Path inside the workspace to write the file to' }),
  token: Type.Optional(Type.String({ title: 'Token', description: 'Token for reading from an SCM host; not used for local files' })),
});

export type FetchPlainFileInput = Static<typeof FetchPlainFileInput>;

export const fetchPlainFile = defineAction<FetchPlainFileInput>({
  id: 'fetch:plain:file',
  description: 'Copies a single file into the workspace without rendering it.',
  schema: { input: FetchPlainFileInput },
  supportsDryRun: true,
  examples: [
    {
      description: 'Copy one file that sits beside the template into the workspace.',
      example: yaml.stringify({
        steps: [{ id: 'fetch-plain-file', name: 'Fetch plain file', action: 'fetch:plain:file', input: { url: './assets/logo.png', targetPath: 'docs/logo.png' } }],
      }),
    },
  ],
  async handler(ctx) {
    if (typeof ctx.input.targetPath !== 'string' || ctx.input.targetPath === '') {
      throw badInput('ACTION_INPUT_INVALID', `targetPath must name the file to write, got ${JSON.stringify(ctx.input.targetPath)}`, { field: 'targetPath' });
    }
    const outputPath = await resolveInside(ctx.workspacePath, ctx.input.targetPath, 'targetPath');
    const source = await resolveTemplateSource(ctx.templateInfo.baseUrl, ctx.input.url, 'file');
    await mkdir(path.dirname(outputPath), { recursive: true });
    await rm(outputPath, { force: true });
    await copyFile(source, outputPath);
    await chmod(outputPath, (await stat(source)).mode & 0o7777);
    ctx.log(`Copied ${ctx.input.url} to ${ctx.input.targetPath}`);
  },
});
