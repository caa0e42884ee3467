// The local stack as a library: the tests (through @oms/testing's ensureStack) and the tools
// (tools/stack/stack.mjs, npm start, npm test) bring it up, probe it and stop it through this.
export { componentAddresses, down, StackError, status, up } from './stack.mjs';
