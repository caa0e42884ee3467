// The local stack as a library: the tests (through @oms/testing's ensureStack) and the tools
// (tools/stack/stack.mjs, npm start, npm test) bring it up, probe it and stop it through this.
export { binary, componentAddresses, down, StackError, status, up } from './stack.mjs';
export { webPages } from './web-pages.mjs';
