import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';
import { ColumnHeads } from './column-heads';

type StockItem = Answer<'/console/api/stock'>['items'][number];

/** Availability per item, with what unpaid orders hold and paid ones took; availability is editable. */
export function Stock() {
  const [items, setItems] = useState<StockItem[] | undefined>();
  const [error, setError] = useState('');
  const load = () =>
    call('get', '/console/api/stock').then(
      (answer) => {
        setItems(answer.items);
        setError('');
      },
      (failure: unknown) => setError(describeError(failure)),
    );
  useEffect(() => void load(), []);
  return (
    <section aria-labelledby="stock-title">
      <div class="title-row">
        <h1 id="stock-title">Stock</h1>
        <button type="button" class="quiet" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <p class="help">
        Available can be reserved now; held is reserved by orders not paid yet; committed went to paid orders.
      </p>
      {error && <p class="error">{error}</p>}
      {items && (
        <table class="stock">
          <ColumnHeads names={['Item', 'Available', 'Held', 'Committed', 'Set available']} />
          <tbody>
            {items.map((item) => (
              <Row key={item.itemId} item={item} onSaved={load} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Row({ item, onSaved }: { item: StockItem; onSaved: () => Promise<void> }) {
  const [value, setValue] = useState(String(item.available));
  const [message, setMessage] = useState('');
  const inputId = `available-${item.itemId}`;
  const save = async (event: Event) => {
    event.preventDefault();
    setMessage('');
    try {
      const saved = await call('put', '/v1/admin/stock/{itemId}', {
        params: { itemId: item.itemId },
        body: { available: Number(value) },
      });
      setMessage(`Saved: ${saved.available}`);
      await onSaved();
    } catch (failure) {
      setMessage(describeError(failure));
    }
  };
  return (
    <tr data-item-id={item.itemId}>
      <th scope="row">
        {item.name} <code class="meta">{item.itemId}</code>
      </th>
      <td class="number" data-field="available">
        {item.available}
      </td>
      <td class="number">{item.held}</td>
      <td class="number">{item.committed}</td>
      <td>
        <form class="inline" onSubmit={save}>
          <label for={inputId} class="sr-only">
            Available {item.name}
          </label>
          <input
            id={inputId}
            type="number"
            min={0}
            step={1}
            required
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
          />
          <button type="submit">Save</button>
          <span role="status" class="help">
            {message}
          </span>
        </form>
      </td>
    </tr>
  );
}
