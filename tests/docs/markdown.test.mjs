// The block extractor: what counts as a block, what its info string says, and which blocks the
// docs test refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeBlocks, parseInfo, problem } from './markdown.mjs';

test('fences: backticks and tildes, longer fences holding shorter ones, indented list items', () => {
  const md = [
    '# t',
    '```bash',
    'echo one',
    '```',
    'text',
    '~~~js browser',
    "console.log('two');",
    '~~~',
    '````md no-run: a block that shows a block, as an example',
    '```bash',
    'inner',
    '```',
    '````',
    '- a list item:',
    '  ```toml',
    '  [recommenders]',
    '  ```',
  ].join('\n');
  const blocks = codeBlocks(md);
  assert.deepEqual(
    blocks.map((b) => [b.line, b.lang, b.mode, b.noRun, b.body]),
    [
      [2, 'bash', null, null, 'echo one\n'],
      [6, 'js', 'browser', null, "console.log('two');\n"],
      [9, 'md', null, 'a block that shows a block, as an example', '```bash\ninner\n```\n'],
      [15, 'toml', null, null, '[recommenders]\n'],
    ],
  );
});

test('an unclosed fence and backticks in an info string are errors with the line', () => {
  assert.throws(() => codeBlocks('a\n```bash\necho\n'), /line 2: the code fence is never closed/);
  assert.throws(() => codeBlocks('```bash no-run: `cargo` is slow\nx\n```\n'), /line 1: .*cannot hold backticks/);
});

test('info strings: language, mode, no-run reason', () => {
  assert.deepEqual(parseInfo('bash'), { info: 'bash', lang: 'bash', mode: null, noRun: null });
  assert.deepEqual(parseInfo('JS worker'), { info: 'JS worker', lang: 'js', mode: 'worker', noRun: null });
  assert.equal(parseInfo('bash no-run: needs a Cloudflare account').noRun, 'needs a Cloudflare account');
  assert.equal(parseInfo('bash no-run needs an account here').noRun, 'needs an account here');
  assert.equal(parseInfo('text no-run').noRun, '');
  assert.equal(parseInfo('').lang, '');
});

test('problems: no language, an unrun language, a mark without a reason, an unknown mode', () => {
  const block = (info) => ({ ...parseInfo(info), body: '' });
  assert.equal(problem(block('bash')), null);
  assert.equal(problem(block('js local-worker')), null);
  assert.equal(problem(block('text no-run: a diagram of the parts')), null);
  assert.match(problem(block('')), /has no language/);
  assert.match(problem(block('diff')), /`diff`, which no test runs/);
  assert.match(problem(block('bash no-run: slow')), /without a reason/);
  assert.match(problem(block('js deno')), /names the mode "deno"/);
  assert.match(problem(block('bash browser')), /only JS blocks/);
});
