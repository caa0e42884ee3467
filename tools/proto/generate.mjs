#!/usr/bin/env node
// Generates the TypeScript contracts from proto/ with buf + ts-proto (one reproducible command).
// `--check` regenerates into a scratch folder and fails when the committed code is stale.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const generatedDir = join(root, 'libs/contracts/src/generated');
const check = process.argv.includes('--check');

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

function generate(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const template = readFileSync(join(root, 'proto/buf.gen.yaml'), 'utf8').replace(
    '../libs/contracts/src/generated',
    relative(join(root, 'proto'), outDir),
  );
  execFileSync(join(root, 'node_modules/.bin/buf'), ['generate', '--template', template], {
    cwd: join(root, 'proto'),
    stdio: 'inherit',
  });
  execFileSync(
    join(root, 'node_modules/.bin/prettier'),
    ['--write', '--log-level=warn', '--ignore-path=', '--config', join(root, '.prettierrc.json'), outDir],
    {
      stdio: 'inherit',
    },
  );
}

if (!check) {
  generate(generatedDir);
  console.log(`generated ${listFiles(generatedDir).length} files into ${relative(root, generatedDir)}`);
} else {
  const scratch = mkdtempSync(join(tmpdir(), 'oms-proto-'));
  const fresh = join(scratch, 'generated');
  generate(fresh);
  const rel = (d) =>
    listFiles(d)
      .map((f) => relative(d, f))
      .sort();
  const a = rel(fresh);
  const b = rel(generatedDir);
  const stale =
    JSON.stringify(a) !== JSON.stringify(b) ||
    a.some((f) => readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(generatedDir, f), 'utf8'));
  rmSync(scratch, { recursive: true, force: true });
  if (stale) {
    console.error('libs/contracts/src/generated is stale: run `npm run proto:gen` and commit the result');
    process.exit(1);
  }
  console.log('generated contracts are up to date');
}
