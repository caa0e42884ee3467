import { connect } from 'node:net';

/**
 * An HTTP/1.1 request as bytes, so it can be anything a hostile client sends: every string is
 * latin1 (one character per byte), which keeps invalid UTF-8, NULs and bare CRs intact.
 */
export interface RawRequest {
  method: string;
  /** The request-target exactly as sent: `/v1/menu?x=1`, `//v1`, `%2e%2e`, raw bytes ≥ 0x80. */
  target: string;
  /** In order, as sent; nothing is added (no Host, Content-Length or Connection of its own). */
  headers: readonly (readonly [string, string])[];
  body?: string;
}

export interface RawAnswer {
  status: number;
  /** Lowercased names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

export const toLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

export function encodeRawRequest(request: RawRequest): Buffer {
  const head =
    `${request.method} ${request.target} HTTP/1.1\r\n` +
    request.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('') +
    '\r\n';
  return Buffer.from(head + (request.body ?? ''), 'latin1');
}

/**
 * Sends one request on a connection of its own and reads the answer until the server closes it
 * (requests are expected to carry `Connection: close`; one the parser refuses is closed anyway).
 * Rejects when no complete answer arrives within `timeoutMs`.
 */
export function sendRawRequest(
  address: { host: string; port: number },
  request: RawRequest,
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Written without half-closing: Node's server drops a request whose client has already ended.
    const socket = connect(address.port, address.host, () => socket.write(encodeRawRequest(request)));
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no complete answer within ${timeoutMs} ms`)),
    );
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A framed answer is complete without waiting for the server to close the connection.
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer && (answer.headers['content-length'] !== undefined || answer.headers['transfer-encoding'])) {
        resolve(answer);
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      // A server that answered and then reset the connection still answered.
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer) resolve(answer);
      else reject(error);
    });
    socket.on('close', () => {
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer) resolve(answer);
      else reject(new Error(`the connection closed without a complete answer (${chunks.length} chunks)`));
    });
  });
}

/** The first HTTP answer in `bytes`, or undefined when it is incomplete. */
export function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(end + 4);
  const body = headers['transfer-encoding']?.toLowerCase() === 'chunked' ? dechunk(rest) : rest;
  if (!body) return undefined;
  const length = headers['content-length'];
  if (length !== undefined && body.length < Number(length)) return undefined;
  return {
    status: Number(status[1]),
    headers,
    body: length === undefined ? body : body.subarray(0, Number(length)),
  };
}

function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (bytes.length < start + size) return undefined;
    parts.push(bytes.subarray(start, start + size));
    offset = start + size + 2;
  }
}
