// The nesting pre-scan: it counts the depth the HTML parser really builds (checked against
// htmlparser2, the parser under html-to-text), refuses hostile nesting with the limit named, and
// lets ordinary documents and long flat ones through whole.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parseDocument } from 'htmlparser2';
import { convert } from './index.js';
import { htmlDepth, markdownDepth, MAX_HTML_DEPTH, MAX_MARKDOWN_DEPTH } from './nesting.js';
import { ConvertSandbox } from './sandbox.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from './types.js';

interface TreeNode {
  readonly type: string;
  readonly children?: readonly TreeNode[];
}

/** The depth of elements in the tree htmlparser2 builds (text and comments do not count). */
function parsedDepth(html: string): number {
  let deepest = 0;
  const walk = (nodes: readonly TreeNode[], depth: number) => {
    for (const node of nodes) {
      if (node.type !== 'tag' && node.type !== 'script' && node.type !== 'style') continue;
      deepest = Math.max(deepest, depth + 1);
      walk(node.children ?? [], depth + 1);
    }
  };
  walk(parseDocument(html).children, 0);
  return deepest;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

async function refusal(work: Promise<unknown>): Promise<ConversionError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ConversionError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('htmlDepth counts what the parser builds', () => {
  const documents: Record<string, string> = {
    'nested blocks': '<html><body><div><section><p>text</p></section></div></body></html>',
    'paragraphs and list items left open': '<body><p>one<p>two<ul><li>a<li>b<li>c</ul><p>three',
    'void elements': '<div><br><img src="x.png"><hr><input><p>text<br/>more</p></div>',
    'tables': '<table><tr><td>a<td>b<tr><td>c</table>',
    'a script holding tags': '<div><script>document.write("<div><div><div>")</script><p>after</p></div>',
    'a style and a title': '<head><title><b><b></title><style>p > a { }</style></head><body><i>x</i></body>',
    'comments and declarations': '<!DOCTYPE html><!-- <div><div> --><div><?php echo 1 ?><span>x</span></div>',
    'attributes with > in quotes': '<div title="a > b" data-x=\'<div>\'><span class=c>x</span></div>',
    'stray end tags': '</div></p></span><div>x</div></div></div>',
    'self-closing in HTML (ignored) and in SVG (honoured)': '<div/><div/><svg><g/><g/><path d="M0"/></svg>',
    'end tags close what is inside them': '<div><span><b><i>x</div><p>y</p>',
    'upper-case names': '<DIV><Div><P>x</P></div></DIV>',
  };
  for (const [name, html] of Object.entries(documents)) {
    test(name, () => {
      assert.equal(htmlDepth(html), parsedDepth(html));
    });
  }

  test('depth at and past the limit', () => {
    const nested = (levels: number) => `${'<div>'.repeat(levels)}x${'</div>'.repeat(levels)}`;
    assert.equal(htmlDepth(nested(MAX_HTML_DEPTH)), MAX_HTML_DEPTH);
    assert.equal(parsedDepth(nested(MAX_HTML_DEPTH)), MAX_HTML_DEPTH);
    assert.ok(htmlDepth(nested(MAX_HTML_DEPTH + 1)) > MAX_HTML_DEPTH);
  });
});

describe('hostile HTML and Markdown are refused before parsing', () => {
  test('200,000 nested <div>: too_large, naming the limit', async () => {
    const html = `<html><body>${'<div>'.repeat(200_000)}deep${'</div>'.repeat(200_000)}</body></html>`;
    const error = await refusal(convert(utf8(html), 'nested.html', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, new RegExp(`${MAX_HTML_DEPTH} levels`));
  });

  test('500,000 unclosed tags: too_large', async () => {
    const html = `<html><body>${'<b>x '.repeat(500_000)}</body></html>`;
    const error = await refusal(convert(utf8(html), 'unclosed.html', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
  });

  test('a Markdown list indented one more step per line (4 MB): too_large, naming the limit', async () => {
    const lines: string[] = [];
    for (let i = 0, size = 0; size < 4_000_000; i++) {
      const line = `${' '.repeat(i * 2)}- item ${i}`;
      lines.push(line);
      size += line.length + 1;
    }
    const error = await refusal(convert(utf8(lines.join('\n')), 'stairs.md', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, new RegExp(`${MAX_MARKDOWN_DEPTH} levels`));
  });

  test('Markdown quotes nested 100,000 deep: too_large', async () => {
    const error = await refusal(convert(utf8(`${'>'.repeat(100_000)} quoted`), 'quotes.md', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
  });

  test('raw HTML inside Markdown is measured too', async () => {
    const error = await refusal(convert(utf8(`# Title\n\n${'<div>'.repeat(2000)}x`), 'raw.md', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
  });
});

describe('ordinary nesting goes through', () => {
  test('Markdown lists and quotes a few levels deep', () => {
    const list = ['- one', '  - two', '    - three', '      1. four', '', '```', '- not', '  - a', '    - list', '    - at all', '      - here', '```', '- back to one'].join('\n');
    assert.equal(markdownDepth(list), 4, 'fenced code is not a list');
    assert.equal(markdownDepth('> quoted\n> > twice\n'), 2);
    // An upper bound, never less than marked nests: a list level is not closed by a paragraph.
    assert.equal(markdownDepth('- one\n  - two\n\nA paragraph.\n\n> quoted'), 3);
  });

  test('a Markdown list just under the limit is converted', async () => {
    const levels = MAX_MARKDOWN_DEPTH;
    const markdown = Array.from({ length: levels }, (_, i) => `${' '.repeat(i * 2)}- level ${i + 1}`).join('\n');
    assert.equal(markdownDepth(markdown), levels);
    const { text } = await convert(utf8(markdown), 'deep-but-fine.md', DEFAULT_CONVERT_LIMITS);
    assert.match(text, new RegExp(`level ${levels}$`));
  });

  test('HTML 511 levels deep is converted', async () => {
    const html = `<html><body>${'<div>'.repeat(MAX_HTML_DEPTH - 2)}bottom${'</div>'.repeat(MAX_HTML_DEPTH - 2)}</body></html>`;
    assert.equal((await convert(utf8(html), 'deep.html', DEFAULT_CONVERT_LIMITS)).text, 'bottom');
  });

  const words = 'lorem ipsum dolor sit amet ';
  const body = words.repeat(Math.ceil((17 * 2 ** 20) / words.length));
  const longHtml = utf8(`<html><body><p>${body}THE-END</p></body></html>`);

  test('HTML over html-to-text\'s 16 Mi-character limit is converted whole, not cut', async () => {
    assert.ok(longHtml.length > 17 * 2 ** 20);
    const { text } = await convert(longHtml, 'long.html', DEFAULT_CONVERT_LIMITS);
    assert.equal(text.length, `${body}THE-END`.trim().length);
    assert.ok(text.endsWith('amet THE-END'));
  });

  test('in the sandbox, with the default limits, that HTML is refused as too_large, not indexed in part', async () => {
    const sandbox = new ConvertSandbox({ processes: 1, limits: { ...DEFAULT_CONVERT_LIMITS, maxHeapMb: 384, maxMemoryMb: 640, maxChars: 10_000_000 } });
    after(() => sandbox.close());
    const error = await refusal(sandbox.convert(longHtml, 'long.html'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /CONVERT_MAX_CHARS|CONVERT_MAX_HEAP_MB|CONVERT_MAX_MEMORY_MB/);
  });
});
