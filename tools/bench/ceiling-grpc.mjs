// Ceiling: a bare grpc-js unary echo server, in its own process.
import { Server, ServerCredentials } from '@grpc/grpc-js';

export const ECHO_SERVICE = {
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value) => value,
    requestDeserialize: (value) => value,
    responseSerialize: (value) => value,
    responseDeserialize: (value) => value,
  },
};

if (process.argv[1] === import.meta.filename) {
  const server = new Server();
  server.addService(ECHO_SERVICE, { echo: (call, callback) => callback(null, call.request) });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    process.stdout.write(`${JSON.stringify({ target: `127.0.0.1:${port}` })}\n`);
  });
}
