import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createService } from './server.js';

describe('the service over HTTP', () => {
  const server = createService();
  let base = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('GET /healthz answers 200 {"status":"ok"}', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('GET /hello?name=x greets x', async () => {
    const res = await fetch(`${base}/hello?name=Ada%20Lovelace`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'Hello, Ada Lovelace' });
  });

  it('GET /hello without a name greets the world', async () => {
    const res = await fetch(`${base}/hello`);
    assert.deepEqual(await res.json(), { message: 'Hello, world' });
  });

  it('answers 404 for an unknown path and 405 for another method', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    const res = await fetch(`${base}/healthz`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });
});
