import type { TemplateAction } from '../action.ts';
import { debugLog, debugWait } from './debug.ts';
import { fetchCookiecutter } from './fetch-cookiecutter.ts';
import { fetchPlain, fetchPlainFile } from './fetch-plain.ts';
import { fetchTemplate, fetchTemplateFile } from './fetch-template.ts';
import { fsDelete, fsRename } from './fs.ts';

/**
 * Backstage's built-in actions that touch nothing but the task's workspace (with Backstage's ids,
 * inputs and semantics): fetching and rendering skeletons, renaming and deleting files, logging
 * and waiting. They all run for real in a dry-run.
 */
export const workspaceActions: TemplateAction[] = [
  fetchTemplate,
  fetchTemplateFile,
  fetchPlain,
  fetchPlainFile,
  fetchCookiecutter,
  fsRename,
  fsDelete,
  debugLog,
  debugWait,
];

export { debugLog, debugWait, fetchCookiecutter, fetchPlain, fetchPlainFile, fetchTemplate, fetchTemplateFile, fsDelete, fsRename };
