// huandu/xstrings case conversions (v1.3): ToCamelCase, ToSnakeCase, ToKebabCase.
import { isLetter, isNumber, isPunct, isSpace, isUpper, toLowerRune, toUpperRune } from "./unicode.js";

const isConnector = (r: string): boolean => r === "-" || r === "_" || isSpace(r);

/** xstrings' isAlphabet: a letter that is not a CJK ideograph. */
function isAlphabet(r: string): boolean {
  if (!isLetter(r)) return false;
  return !/\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Script=Hangul}/u.test(r);
}

export function camelcase(s: string): string {
  const runes = [...s];
  if (runes.length === 0) return "";
  let out = "";
  let i = 0;
  let r0 = "";
  while (i < runes.length) {
    r0 = runes[i++];
    if (!isConnector(r0)) {
      r0 = toUpperRune(r0);
      break;
    }
    out += r0;
  }
  if (i >= runes.length) {
    // xstrings writes the last rune once more here, even when it was a connector already written ("__" -> "___").
    return out + r0;
  }
  while (i < runes.length) {
    const r1 = r0;
    r0 = runes[i++];
    if (isConnector(r0) && isConnector(r1)) {
      out += r1;
      continue;
    }
    if (isConnector(r1)) r0 = toUpperRune(r0);
    else {
      r0 = toLowerRune(r0);
      out += r1;
    }
  }
  return out + r0;
}

enum Word { Invalid, Number, UpperCase, Alphabet, Connector, Punct, Other }

interface Next { wt: Word; word: string[]; rest: string[] }

function nextWord(str: string[]): Next {
  if (str.length === 0) return { wt: Word.Invalid, word: [], rest: [] };
  let offset = 1;
  const r = str[0];
  let wt: Word;
  const take = (pred: (c: string) => boolean) => {
    while (offset < str.length && pred(str[offset])) offset++;
  };
  if (isConnector(r)) {
    wt = Word.Connector;
    take(isConnector);
  } else if (isPunct(r)) {
    wt = Word.Punct;
    take(isPunct);
  } else if (isUpper(r)) {
    wt = Word.UpperCase;
    if (offset < str.length) {
      const r2 = str[offset];
      if (isUpper(r2)) {
        offset++;
        take(isUpper);
        // "HTTPServer": the last upper-case rune starts the next word.
        if (offset < str.length && isAlphabet(str[offset])) offset--;
      } else if (isAlphabet(r2)) {
        offset++;
        take((c) => isAlphabet(c) && !isUpper(c));
      }
    }
  } else if (isAlphabet(r)) {
    wt = Word.Alphabet;
    take((c) => isAlphabet(c) && !isUpper(c));
  } else if (isNumber(r)) {
    wt = Word.Number;
    take(isNumber);
  } else {
    wt = Word.Other;
    take((c) => !(isConnector(c) || isAlphabet(c) || isNumber(c) || isPunct(c)));
  }
  return { wt, word: str.slice(0, offset), rest: str.slice(offset) };
}

function lowerWord(wt: Word, word: string[], connector: string): string {
  if (wt !== Word.UpperCase && wt !== Word.Connector) return word.join("");
  return word.map((r) => (isConnector(r) ? connector : isUpper(r) ? toLowerRune(r) : r)).join("");
}

function camelCaseToLowerCase(s: string, connector: string): string {
  if (s === "") return "";
  let out = "";
  let { wt, word, rest } = nextWord([...s]);
  while (rest.length > 0) {
    if (wt !== Word.Connector) out += lowerWord(wt, word, connector);
    const prev = wt;
    const last = word;
    ({ wt, word, rest } = nextWord(rest));
    switch (prev) {
      case Word.Number:
        while (wt === Word.Alphabet || wt === Word.Number) {
          out += lowerWord(wt, word, connector);
          ({ wt, word, rest } = nextWord(rest));
        }
        if (wt !== Word.Invalid && wt !== Word.Punct && wt !== Word.Connector) out += connector;
        break;
      case Word.Connector:
        out += lowerWord(prev, last, connector);
        break;
      case Word.Punct:
        break;
      default: {
        if (wt !== Word.Number) {
          if (wt !== Word.Connector && wt !== Word.Punct) out += connector;
          break;
        }
        if (rest.length === 0) break;
        const numberWord = word;
        ({ wt, word, rest } = nextWord(rest));
        if (wt !== Word.Alphabet) {
          out += lowerWord(Word.Number, numberWord, connector);
          if (wt !== Word.Connector && wt !== Word.Punct) out += connector;
          break;
        }
        out += connector + lowerWord(Word.Number, numberWord, connector);
        while (wt === Word.Alphabet || wt === Word.Number) {
          out += lowerWord(wt, word, connector);
          ({ wt, word, rest } = nextWord(rest));
        }
        if (wt !== Word.Invalid && wt !== Word.Connector && wt !== Word.Punct) out += connector;
      }
    }
  }
  return out + lowerWord(wt, word, connector);
}

export const snakecase = (s: string): string => camelCaseToLowerCase(s, "_");
export const kebabcase = (s: string): string => camelCaseToLowerCase(s, "-");
