#!/usr/bin/env node
// The local stack's command line; the stack itself is the libs/local-stack library.
//
//   node tools/stack/stack.mjs up|down|status [--quiet] [--only=nomad,...]   (npm run stack -- up|down|status)
//   import { up, down, status, componentAddresses } from './stack/stack.mjs'   (tools/*.mjs)
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { down, status, up } from '../../libs/local-stack/src/index.mjs';

export {
  componentAddresses,
  down,
  StackError,
  status,
  up,
  webPages,
} from '../../libs/local-stack/src/index.mjs';

async function main(argv) {
  const [command = 'status', ...rest] = argv;
  const quiet = rest.includes('--quiet') || rest.includes('-q');
  const only = rest
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const exitOn = (signal) => process.on(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  exitOn('SIGINT');
  exitOn('SIGTERM');
  try {
    if (command === 'up') await up({ quiet, only });
    else if (command === 'down') await down({ quiet, only });
    else if (command === 'status') await status({ quiet, only });
    else {
      process.stderr.write(
        'usage: node tools/stack/stack.mjs up|down|status [--quiet] [--only=<component>,...]\n',
      );
      return 2;
    }
    return 0;
  } catch (err) {
    const message = err.message
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
    process.stderr.write(`stack ${command} failed:\n${message}\n`);
    return 1;
  }
}

/** True when this file is the program being run (`node tools/stack/stack.mjs ...`), not an import. */
function isMain() {
  try {
    return (
      Boolean(process.argv[1]) && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href
    );
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
