// What a module compiler gets and returns.
import { shellQuote } from "../shell/quote.js";
import { FileLookup, toBool, toText } from "./jinja.js";

export { shellQuote };

/** Thrown by module compilers for a problem in the task; the task compiler locates it. */
export class TaskProblem extends Error {
  /** `option`: the module option refused, when there is one (validation points at it). */
  constructor(message: string, readonly hint?: string, readonly option?: string) {
    super(message);
  }
}

export interface ModuleContext {
  /** Ask for a bash helper (helpers.ts) to be defined in the RUN script. */
  helper(name: string): void;
  /** The task's become_user, when become is on (only command modules accept it). */
  becomeUser?: string;
  /**
   * The bash variable of a registered result (`stat.exists`), set with `ansible_set VAR VALUE` in the task;
   * undefined when the task registers nothing. The field must be listed in the module's REGISTER_FIELDS.
   */
  result(field: string): string | undefined;
}

/** A module compiler: the task's options (rendered) → bash lines that do what the module does, failing (exit≠0) as it fails. */
export type ModuleCompiler = (args: Args, ctx: ModuleContext) => string[];

/** The options of one module invocation, read with ansible's conversions; unknown options are an error. */
export class Args {
  private readonly used = new Set<string>();
  constructor(
    readonly module: string,
    readonly values: Readonly<Record<string, unknown>>,
    /** The free-form part (`shell: echo hi`), when the module has one. */
    readonly freeForm?: string,
  ) {}

  has(...keys: string[]): boolean {
    return keys.some((k) => this.values[k] !== undefined && this.values[k] !== null);
  }

  private raw(keys: string[]): unknown {
    for (const k of keys) this.used.add(k);
    for (const k of keys) if (this.values[k] !== undefined && this.values[k] !== null) return this.values[k];
    return undefined;
  }

  str(...keys: string[]): string | undefined {
    const v = this.raw(keys);
    if (v === undefined) return undefined;
    if (typeof v === "object") throw new TaskProblem(`option \`${keys[0]}\` of ${this.module} must be a string, got ${JSON.stringify(v)}`, "quote the value", keys.find((k) => this.values[k] != null));
    return toText(v);
  }

  /** A text option that may be `{{ lookup('file', PATH) }}` (read in the container at run time). */
  textOrFile(key: string): { text: string } | { file: string } | undefined {
    const v = this.values[key];
    if (v instanceof FileLookup) {
      this.used.add(key);
      return { file: v.path };
    }
    const t = this.str(key);
    return t === undefined ? undefined : { text: t };
  }

  need(...keys: string[]): string {
    const v = this.str(...keys);
    if (v === undefined || v === "") throw new TaskProblem(`${this.module}: missing required option \`${keys[0]}\``, `add \`${keys[0]}:\` to the task`);
    return v;
  }

  bool(key: string, dflt: boolean, ...aliases: string[]): boolean {
    const v = this.raw([key, ...aliases]);
    return v === undefined ? dflt : toBool(v);
  }

  /** A list option: a YAML list, or a comma-separated string (ansible's `type=list`). */
  list(...keys: string[]): string[] {
    const v = this.raw(keys);
    if (v === undefined) return [];
    if (Array.isArray(v)) return v.map((x) => toText(x));
    return toText(v).split(",").map((s) => s.trim()).filter((s) => s !== "");
  }

  obj(...keys: string[]): Record<string, unknown> | undefined {
    const v = this.raw(keys);
    if (v === undefined) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) throw new TaskProblem(`option \`${keys[0]}\` of ${this.module} must be a mapping`, "write it as `key: value` lines", keys.find((k) => this.values[k] != null));
    return v as Record<string, unknown>;
  }

  /** One of `choices` (default `dflt`). */
  choice<T extends string>(key: string, choices: readonly T[], dflt: T): T {
    const v = this.str(key);
    if (v === undefined) return dflt;
    if (!(choices as readonly string[]).includes(v))
      throw new TaskProblem(`${this.module}: value of \`${key}\` must be one of: ${choices.join(", ")}, got: ${v}`, "stapel2docker compiles only these values; write other cases as a `shell` task", key);
    return v as T;
  }

  /** A file mode: octal string/number as ansible reads it (YAML 0644 arrives as the number 420), or symbolic. */
  mode(key = "mode"): string | undefined {
    const v = this.raw([key]);
    if (v === undefined) return undefined;
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < 0) throw new TaskProblem(`${this.module}: bad mode ${v}`, "give the mode in octal, e.g. '0644'", key);
      return "0" + v.toString(8).padStart(3, "0");
    }
    const s = toText(v);
    if (/^[0-7]{1,4}$/.test(s)) return s.padStart(4, "0");
    if (/^([ugoa]*[-+=]([rwxXst]*|[ugo]))+(,([ugoa]*[-+=]([rwxXst]*|[ugo]))+)*$/.test(s)) return s;
    if (s === "preserve") throw new TaskProblem(`${this.module}: mode \`preserve\` is not supported`, "give the mode in octal, e.g. '0644'", key);
    throw new TaskProblem(`${this.module}: mode must be in octal or symbolic form, got ${JSON.stringify(s)}`, "give the mode in octal, e.g. '0644'", key);
  }

  /**
   * An option whose values in `ok` change nothing in the image (or what ansible does there); any other value is
   * refused at the option: options are implemented or refused, never silently ignored.
   */
  harmless(key: string, ok: (v: unknown) => boolean, hint = "remove the option, or write the step as a `shell` task"): void {
    const v = this.raw([key]);
    if (v !== undefined && !ok(v)) throw new TaskProblem(`${this.module}: \`${key}: ${typeof v === "string" ? v : JSON.stringify(v)}\` is not supported by stapel2docker`, hint, key);
  }

  /** Throws for options the compiler did not read (and that are not listed as ignorable). */
  checkUnused(ignorable: readonly string[] = []): void {
    const unknown = Object.keys(this.values).filter((k) => !this.used.has(k) && !ignorable.includes(k) && this.values[k] !== null);
    if (unknown.length > 0)
      throw new TaskProblem(
        `${this.module}: option${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `\`${u}\``).join(", ")} not supported by stapel2docker`,
        "remove the option, or write the step as a `shell` task",
        unknown[0],
      );
  }
}

export const q = shellQuote;

/** For Args.harmless: a boolean option left false. */
export const isFalse = (v: unknown): boolean => !toBool(v);
/** For Args.harmless: `attributes` (chattr flags) left empty. */
export const noAttributes = (v: unknown): boolean => toText(v) === "";
