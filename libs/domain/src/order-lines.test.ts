import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byCodePoint, ID, lineProblems, MAX_LINES, mergeLines } from './order-lines';

test('lines with the same item are merged and sorted by code point, whatever the locale', () => {
  assert.deepEqual(
    mergeLines([
      { itemId: 'tiramisu', quantity: 1 },
      { itemId: 'Zuppa', quantity: 1 },
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 3 },
    ]),
    [
      { itemId: 'Zuppa', quantity: 1 }, // 'Z' (90) sorts before 'm' (109); localeCompare would not
      { itemId: 'margherita', quantity: 2 },
      { itemId: 'tiramisu', quantity: 4 },
    ],
  );
  assert.equal(byCodePoint('a', 'a'), 0);
  assert.equal(byCodePoint('B', 'a'), -1);
});

test('every problem of a list of lines is reported, each with its field', () => {
  assert.deepEqual(lineProblems([{ itemId: 'a', quantity: 1 }], { maxQuantity: 100 }), []);
  const problems = lineProblems(
    [
      { itemId: 'bad id', quantity: 1 },
      { itemId: 'a', quantity: 0 },
      { itemId: 'b', quantity: 1.5 },
    ],
    { field: 'lines', maxQuantity: 100 },
  );
  assert.deepEqual(
    problems.map((p) => p.field),
    ['lines[0].itemId', 'lines[1].quantity', 'lines[2].quantity'],
  );
  assert.deepEqual(lineProblems([], { maxQuantity: 100 }), [
    { field: 'items', problem: `1..${MAX_LINES} lines` },
  ]);
});

test('the merged quantity of an item counts against the cap', () => {
  assert.deepEqual(
    lineProblems(
      [
        { itemId: 'a', quantity: 60 },
        { itemId: 'a', quantity: 41 },
      ],
      { maxQuantity: 100 },
    ),
    [{ field: 'items', itemId: 'a', problem: 'merged quantity over 100' }],
  );
});

test('ids are what may appear in a path and a field name: no dots, no $', () => {
  for (const good of ['margherita', 'ord_12-AB', 'x'.repeat(64)]) assert.ok(ID.test(good), good);
  for (const bad of ['', 'a.b', '$gt', 'a b', 'x'.repeat(65), 'é']) assert.ok(!ID.test(bad), bad);
});
