// A set of named Go templates sharing their defines and functions (text/template.Template).
import type { SourceMap } from "../diagnostics.js";
import { builtinFuncs } from "./builtins.js";
import { FuncError, TemplateError } from "./errors.js";
import { type ExecEnv, executeTree } from "./exec.js";
import type { Tree } from "./node.js";
import { parseTemplates } from "./parse.js";
import type { FuncMap, GoValue } from "./value.js";

export { TemplateError } from "./errors.js";

export class TemplateSet {
  private readonly trees = new Map<string, Tree>();
  private readonly builtins = builtinFuncs();
  private readonly env: ExecEnv;

  /** `funcs` may be filled later (werf's include/tpl need the set itself); lookups happen at parse and call time. */
  constructor(private readonly funcs: FuncMap) {
    this.env = { funcs, builtins: this.builtins, lookup: (name) => this.trees.get(name), nestedMaps: new Map() };
  }

  /** Parse `text` as template `name` (plus its defines); `file` is where the text lives, for positions. */
  parse(name: string, text: string, file?: string): void {
    const source = { parseName: name, file: file ?? name, text };
    const trees = parseTemplates(name, source, {
      hasFunction: (f) => this.funcs.has(f) || this.builtins.has(f),
      functionNames: () => [...this.funcs.keys(), ...this.builtins.keys()],
    });
    for (const [n, tree] of trees) {
      const old = this.trees.get(n);
      // An empty redefinition does not replace an existing template (Go's AddParseTree).
      if (old && isEmpty(tree)) continue;
      this.trees.set(n, tree);
    }
  }

  has(name: string): boolean {
    return this.trees.has(name);
  }

  /** Names of all templates, sorted. */
  names(): string[] {
    return [...this.trees.keys()].sort();
  }

  execute(name: string, data: GoValue): { text: string; map: SourceMap } {
    const tree = this.trees.get(name);
    if (!tree) {
      const pos = { file: name, line: 1, col: 1 };
      const msg = `no template ${JSON.stringify(name)} associated with template ${JSON.stringify(name)}`;
      throw new TemplateError({ pos, message: msg }, `template: ${msg}`);
    }
    return executeTree(this.env, tree, data);
  }

  /**
   * Execute a template from inside another one (werf's include and tpl): the
   * text only. An unknown name is a plain Error worded like Go's ExecuteTemplate.
   */
  executeNested(name: string, data: GoValue, caller = "werfConfig"): string {
    const tree = this.trees.get(name);
    if (!tree) {
      const known = this.names().filter((n) => n !== caller);
      throw new FuncError(
        `template: no template ${JSON.stringify(name)} associated with template ${JSON.stringify(caller)}`,
        `add .werf/${name} or a {{ define ${JSON.stringify(name)} }}` +
          (known.length ? `; known templates: ${known.map((n) => JSON.stringify(n)).join(", ")}` : ""),
      );
    }
    const out = executeTree(this.env, tree, data);
    if (out.text.length > 0) this.env.nestedMaps?.set(out.text, out.map);
    return out.text;
  }
}

function isEmpty(t: Tree): boolean {
  return t.root.nodes.every((c) => (c.kind === "text" ? c.text.trim() === "" : c.kind === "comment"));
}

/** Parse and execute one template with the given functions and data (for tests and small uses). */
export function renderString(text: string, funcs: FuncMap, data: GoValue): string {
  const set = new TemplateSet(funcs);
  set.parse("template", text);
  return set.execute("template", data).text;
}
