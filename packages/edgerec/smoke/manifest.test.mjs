// The installed package carries its licence, real metadata, and a file behind every export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const dir = path.join(process.cwd(), 'node_modules', 'edgerec');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));

test('the tarball ships the Apache-2.0 licence text', () => {
  assert.equal(manifest.license, 'Apache-2.0');
  const text = fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8');
  assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
});

test('package.json names the repository, homepage and keywords', () => {
  assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\/edgerec\/edgerec\.git$/);
  assert.equal(manifest.repository.directory, 'packages/edgerec');
  assert.match(manifest.homepage, /^https:\/\/github\.com\/edgerec\/edgerec\b/);
  assert.ok(manifest.keywords.length >= 5, 'keywords');
  assert.ok(manifest.description.length > 20, 'description');
  assert.doesNotMatch(JSON.stringify(manifest), /example\.invalid/);
});

test('engines and the README agree on the oldest Node (require() of an ES module: 20.19)', () => {
  assert.equal(manifest.engines.node, '>=20.19');
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  assert.match(readme, /Node 20\.19\s+or\s+newer/);
});

test('every export and types target exists; require gets the .d.cts declarations', () => {
  const targets = [];
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk));
  walk(manifest.exports);
  for (const t of targets) assert.ok(fs.existsSync(path.join(dir, t)), `${t} is missing`);
  assert.equal(manifest.exports['.'].types.require, './index.d.cts');
  assert.equal(manifest.exports['./slim'].types.require, './slim.d.cts');
});
