import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from './config.ts';
import type { PaveError } from './errors.ts';

function configFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-config-'));
  const file = path.join(dir, 'pave.yaml');
  fs.writeFileSync(file, text);
  return file;
}

test('${NAME} in pave.yaml is the environment variable NAME; $${ is a literal ${', () => {
  const file = configFile('integrations:\n  github:\n    - host: github.com\n      token: ${GITHUB_TOKEN}\ndata:\n  dir: /srv/${SITE}/data\n  workDir: /tmp/$${literal}\n');
  const config = loadConfig({ file, env: { GITHUB_TOKEN: 'ghp_secret', SITE: 'acme' } });
  assert.equal(config.integrations.github[0].token, 'ghp_secret');
  assert.equal(config.data.dir, '/srv/acme/data');
  assert.equal(config.data.workDir, '/tmp/${literal}');
});

test('a variable that is not set stops start-up naming the key and the variable', () => {
  const file = configFile('integrations:\n  gitlab:\n    - host: gitlab.com\n      token: ${GITLAB_TOKEN}\n');
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (e: PaveError) => e.code === 'CONFIG_INVALID' && /integrations\.gitlab\[0\]\.token refers to the environment variable GITLAB_TOKEN, which is not set/.test(e.message),
  );
});

test('the work folder is <data.dir>/work unless data.workDir says otherwise', () => {
  const config = loadConfig({ file: '/dev/null', env: {}, cwd: '/srv/pave', overrides: { 'data.dir': './state' } });
  assert.equal(config.data.dir, '/srv/pave/state');
  assert.equal(config.data.workDir, '/srv/pave/state/work');
});
