// Fenced code blocks of a Markdown file, with what their info string says about running them.
//
// Info string: `<language> [mode] [no-run: <reason>]`, e.g. ```bash, ```js browser,
// ```bash no-run: needs a Cloudflare account. Renderers use the first word for highlighting and
// ignore the rest.

/** Languages the runner executes, by kind. */
export const KINDS = {
  sh: 'shell',
  bash: 'shell',
  shell: 'shell',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
  toml: 'config',
};

/** Modes a JS block may name: where it runs. */
export const JS_MODES = ['node', 'browser', 'worker', 'local-worker'];

/**
 * Every fenced block of `text` (CommonMark fences: three or more backticks or tildes, possibly
 * indented inside a list item), as `{ line, info, lang, mode, noRun, body }`; `line` is the
 * 1-based line of the opening fence, `noRun` the reason when the block is marked no-run (an empty
 * string when the mark has no reason), else `null`. An unclosed fence is an error.
 */
export function codeBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*`{3,}[^`]+`/.test(lines[i])) {
      throw new Error(`line ${i + 1}: a backtick fence's info string cannot hold backticks (CommonMark)`);
    }
    const open = /^( {0,3}|\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, infoRaw] = open;
    const start = i;
    const body = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[i]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) {
        closed = true;
        break;
      }
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i].trimStart());
    }
    if (!closed) throw new Error(`line ${start + 1}: the code fence is never closed`);
    blocks.push({ line: start + 1, ...parseInfo(infoRaw.trim()), body: body.join('\n') + '\n' });
  }
  return blocks;
}

/** `bash no-run: reason` → `{ info, lang: 'bash', mode: null, noRun: 'reason' }`. */
export function parseInfo(info) {
  const m = /^(\S*)\s*(.*)$/.exec(info);
  const lang = m[1].toLowerCase();
  let rest = m[2];
  let noRun = null;
  const mark = /(^|\s)no-run\b:?\s*(.*)$/.exec(rest);
  if (mark) {
    noRun = mark[2].trim();
    rest = rest.slice(0, mark.index).trim();
  }
  const mode = rest.split(/\s+/).filter(Boolean)[0] ?? null;
  return { info, lang, mode, noRun };
}

/**
 * Why a block can neither run nor be skipped, or null when it is fine: a block without a
 * language, a language the runner does not execute without a no-run mark, a no-run mark without
 * a reason (at least three words), or an unknown mode.
 */
export function problem(block) {
  if (block.noRun !== null) {
    return block.noRun.split(/\s+/).filter(Boolean).length >= 3
      ? null
      : 'is marked no-run without a reason (write "no-run: <why, in a few words>")';
  }
  if (!block.lang) return 'has no language: name one (```bash, ```js, ...) or mark it "text no-run: <why>"';
  const kind = KINDS[block.lang];
  if (!kind) return `is \`${block.lang}\`, which no test runs: mark it "${block.lang} no-run: <why>"`;
  if (kind === 'js' && block.mode && !JS_MODES.includes(block.mode)) {
    return `names the mode "${block.mode}"; a JS block runs in ${JS_MODES.join(', ')}`;
  }
  if (kind !== 'js' && block.mode) return `names the mode "${block.mode}", which only JS blocks have`;
  return null;
}
