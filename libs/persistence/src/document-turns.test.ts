import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { DocumentTurns, documentKeyOf } from './document-turns';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('writes to one document run one at a time, in the order they came', async () => {
  const turns = new DocumentTurns();
  const log: string[] = [];
  let running = 0;
  const write = (name: string) => async () => {
    running++;
    assert.equal(running, 1, `${name} ran beside another write of the same document`);
    log.push(`${name} start`);
    await tick();
    log.push(`${name} end`);
    running--;
    return name;
  };
  const results = await Promise.all(['a', 'b', 'c'].map((name) => turns.run('s:doc', write(name))));
  assert.deepEqual(results, ['a', 'b', 'c']);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

test('writes to different documents, or with no document key, do not wait for each other', async () => {
  const turns = new DocumentTurns();
  let release: () => void = () => undefined;
  const blocked = turns.run('s:one', () => new Promise<void>((resolve) => (release = resolve)));
  assert.equal(await turns.run('s:two', async () => 'other document'), 'other document');
  assert.equal(await turns.run(undefined, async () => 'no key'), 'no key');
  release();
  await blocked;
});

test('a failed write does not stop the next, and an idle document is forgotten', async () => {
  const turns = new DocumentTurns();
  const failed = turns.run('s:doc', async () => {
    throw new Error('conflict');
  });
  const next = turns.run('s:doc', async () => 'ran');
  await assert.rejects(failed, /conflict/);
  assert.equal(await next, 'ran');
  await tick();
  assert.equal(turns.busyDocuments, 0);
});

test('the document key is the _id equality of the filter, whatever its type', () => {
  const id = new ObjectId();
  assert.equal(documentKeyOf({ _id: 'a', n: { $gte: 1 } }), 's:a');
  assert.equal(documentKeyOf({ _id: 7 }), 'n:7');
  assert.equal(documentKeyOf({ _id: id }), `o:${id.toHexString()}`);
  assert.equal(documentKeyOf({ _id: { $in: ['a', 'b'] } }), undefined);
  assert.equal(documentKeyOf({ key: 'k' }), undefined);
});
