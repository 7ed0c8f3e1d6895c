// sprig's random functions: randAlpha, randAlphaNum, randAscii, randNumeric (goutils' crypto/rand
// strings), randInt, randBytes, shuffle and uuidv4. Their output differs on every call, in werf as
// here; what matters is the alphabet, the length and the argument handling.
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { type FuncMap, goFunc } from "../value.js";
import { argInt, argString } from "./args.js";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
let ASCII = "";
for (let c = 32; c < 127; c++) ASCII += String.fromCharCode(c);

/** goutils.CryptoRandom over a fixed alphabet; a negative count is an error that sprig drops (""). */
function randomString(count: number, alphabet: string): string {
  if (count <= 0) return "";
  let out = "";
  for (let i = 0; i < count; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** xstrings.Shuffle: a Fisher–Yates shuffle of the runes. */
function shuffle(s: string): string {
  const runes = [...s];
  for (let i = runes.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [runes[i], runes[j]] = [runes[j], runes[i]];
  }
  return runes.join("");
}

export function registerRandom(fm: FuncMap): void {
  fm.set("randAlpha", goFunc(1, 1, (n) => randomString(argInt(n), LETTERS)));
  fm.set("randAlphaNum", goFunc(1, 1, (n) => randomString(argInt(n), LETTERS + DIGITS)));
  fm.set("randNumeric", goFunc(1, 1, (n) => randomString(argInt(n), DIGITS)));
  fm.set("randAscii", goFunc(1, 1, (n) => randomString(argInt(n), ASCII)));
  fm.set("randInt", goFunc(2, 2, (a, b) => {
    const min = argInt(a);
    const max = argInt(b);
    // math/rand.Intn panics unless max-min > 0.
    if (max - min <= 0) throw new Error("invalid argument to Intn");
    return min + Math.floor(Math.random() * (max - min));
  }));
  fm.set("randBytes", goFunc(1, 1, (n) => {
    const count = argInt(n);
    if (count < 0) throw new Error("runtime error: makeslice: len out of range");
    return randomBytes(count).toString("base64");
  }));
  fm.set("shuffle", goFunc(1, 1, (s) => shuffle(argString(s))));
  fm.set("uuidv4", goFunc(0, 0, () => randomUUID()));
}
