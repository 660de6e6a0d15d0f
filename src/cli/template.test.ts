import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PaveClient } from './client.ts';
import { followEvents, type TaskEvent } from './template.ts';

test('pave template run follows the event stream and picks it up again from the last event when it ends early', async () => {
  const asked: string[] = [];
  const event = (id: number, type: TaskEvent['type'], message: string) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, body: { message } })}\n\n`;
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (req.url?.endsWith('after=0')) {
      // A stream cut after one event, as a restart of Pave or a proxy would cut it.
      res.end(event(1, 'log', 'Beginning step Fetch'));
    } else {
      res.write(event(2, 'log', 'Finished step Fetch'));
      res.write(event(3, 'completion', 'Run completed with status: completed'));
      // Left open: the client closes it once it has the completion.
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const client = new PaveClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'token');
    const seen: number[] = [];
    await followEvents(client, 'task-1', (e) => {
      seen.push(e.id);
      return e.type === 'completion';
    });
    assert.deepEqual(seen, [1, 2, 3], 'every event once, in order');
    assert.deepEqual(asked, ['/api/scaffolder/v2/tasks/task-1/eventstream?after=0', '/api/scaffolder/v2/tasks/task-1/eventstream?after=1'], 'reopened from the last event seen');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
