#!/usr/bin/env node
// Writes project.json + tsconfig.json for every project (run once; kept for new projects).
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const apps = ['gateway', 'order', 'stock', 'menu', 'payment', 'kitchen'];
const libs = [
  'config',
  'contracts',
  'discovery',
  'logging',
  'messaging',
  'persistence',
  'resilience',
  'rpc',
  'service-kit',
  'telemetry',
  'testing',
];

function write(path, value) {
  mkdirSync(resolve(root, path, '..'), { recursive: true });
  writeFileSync(resolve(root, path), JSON.stringify(value, null, 2) + '\n');
}
const tsconfig = (depth) => ({
  extends: `${'../'.repeat(depth)}tsconfig.base.json`,
  include: ['src/**/*.ts', 'test/**/*.ts'],
});

for (const app of apps) {
  const dir = `apps/${app}`;
  write(`${dir}/tsconfig.json`, tsconfig(2));
  write(`${dir}/project.json`, {
    name: app,
    $schema: '../../node_modules/nx/schemas/project-schema.json',
    projectType: 'application',
    sourceRoot: `${dir}/src`,
    tags: ['type:app'],
    targets: {
      typecheck: { command: `tsc -p ${dir}/tsconfig.json`, cache: true, inputs: ['default', '^production'] },
      build: {
        command: `node tools/nx/build-app.mjs ${app}`,
        dependsOn: ['typecheck'],
        outputs: [`{workspaceRoot}/dist/apps/${app}`],
      },
      serve: {
        command: `node dist/apps/${app}/main.js`,
        dependsOn: ['build'],
        continuous: true,
      },
      test: { command: `node tools/nx/run-tests.mjs ${dir}` },
      lint: { command: `eslint ${dir}` },
    },
  });
}
for (const lib of libs) {
  const dir = `libs/${lib}`;
  write(`${dir}/tsconfig.json`, tsconfig(2));
  write(`${dir}/project.json`, {
    name: lib,
    $schema: '../../node_modules/nx/schemas/project-schema.json',
    projectType: 'library',
    sourceRoot: `${dir}/src`,
    tags: ['type:lib'],
    targets: {
      build: { command: `tsc -p ${dir}/tsconfig.json`, cache: true },
      test: { command: `node tools/nx/run-tests.mjs ${dir}` },
      lint: { command: `eslint ${dir}` },
    },
  });
  if (!existsSync(resolve(root, dir, 'src'))) mkdirSync(resolve(root, dir, 'src'), { recursive: true });
}
