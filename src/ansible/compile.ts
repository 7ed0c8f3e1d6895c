// Compiles a stage's ansible tasks into bash blocks, one per task, for the toolchain's bash (root, in `/`, the
// image's tools on PATH). Each block runs in a subshell, so chdir/environment stay inside the task; a failing
// task fails the RUN, as a failing task stops ansible-playbook.
//
// The normaliser understands werf's task shapes: a module with free-form text (`shell: cmd chdir=/x`) or options
// (mapping or `k=v` text), `args:`, `vars:`, `environment:`, `become`/`become_user`, `with_items`/`loop` over
// `{{ item }}`, `when:`, `register:`, `ignore_errors:`, `block`/`rescue`/`always`. Jinja is rendered at compile
// time (jinja.ts). Problems are UserErrors naming the task and its werf.yaml line.
import { UserError, type SourcePos } from "../diagnostics.js";
import type { AnsibleTask } from "../config/model.js";
import { SUPPORTED_ANSIBLE_MODULES } from "../config/ansible.js";
import { JinjaError, renderDeep, renderTemplate, toBool, toText, type Scope } from "./jinja.js";
import { Args, TaskProblem, q, type ModuleCompiler, type ModuleContext } from "./types.js";
import { compileWhen, regVar, type RegFields } from "./when.js";
import { helperLines } from "./helpers.js";
import { MODULES, REGISTER_FIELDS } from "./modules/index.js";

export interface CompiledTask {
  /** `# task "name" (module) — werf.yaml:12`. */
  comment: string;
  pos: SourcePos;
  /** The bash lines of the task (including nested comments of block children). */
  lines: string[];
  /** Names of the helpers (helpers.ts) its lines call. */
  helpers: string[];
}

export interface CompileOptions {
  /** One RUN per task: a `when` may not use what an earlier task registered. */
  asLayers?: boolean;
}

/** A task stapel2docker cannot compile, found without compiling for real (validation). */
export interface AnsibleProblem {
  /** The mapping holding the offending key: the task, its module's options or its `args`. */
  container: Record<string, unknown>;
  /** The offending key; undefined: the task as a whole. */
  key?: string;
  message: string;
  hint: string;
}

const DEFAULT_HINT = "write the step as a `shell` task (docs/ansible.md lists what stapel2docker compiles)";

/** A task that cannot be compiled, located in the task (turned into a UserError or an AnsibleProblem). */
class TaskFailure extends Error {
  constructor(readonly problem: AnsibleProblem) {
    super(problem.message);
  }
}

/** Free-form options allowed after a command module's text (`shell: make chdir=/src`). */
const FREE_FORM_KEYS = ["chdir", "creates", "removes", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends"];
const FREE_FORM_MODULES = new Set(["shell", "command", "raw", "script", "meta"]);
const TASK_KEYWORDS = new Set([
  "name", "args", "become", "become_user", "become_method", "become_flags", "environment", "vars", "register", "when",
  "ignore_errors", "tags", "notify", "no_log", "changed_when", "failed_when", "loop", "loop_control", "block", "rescue",
  "always", "check_mode", "diff", "any_errors_fatal", "run_once", "throttle", "timeout", "debugger", "collections",
  "module_defaults", "listen", "delegate_to", "delegate_facts", "ignore_unreachable", "until", "retries", "delay",
  "async", "poll", "connection", "remote_user", "port", "vars_files", "local_action", "action",
]);
/** Task keywords without effect on what a task does in an image build (reporting, handlers, connection, ...). */
const IGNORED_KEYWORDS = ["tags", "notify", "no_log", "changed_when", "diff", "any_errors_fatal", "run_once", "throttle", "debugger", "listen", "collections", "become_method", "become_flags", "connection", "remote_user", "port", "ignore_unreachable", "timeout"];

/** Compiles the tasks of one stage. */
export function compileAnsibleTasks(tasks: readonly AnsibleTask[], opts: CompileOptions = {}): CompiledTask[] {
  const c = new Compiler(opts);
  return tasks.map((t, i) => c.topTask(t, i));
}

/**
 * Every problem that compileAnsibleTasks would refuse in these tasks (one per task or block child, with the
 * offending key), for `validate`. It runs the same compiler, so validation and compilation never disagree.
 */
export function checkAnsibleTasks(tasks: readonly Record<string, unknown>[], opts: CompileOptions = {}): AnsibleProblem[] {
  const problems: AnsibleProblem[] = [];
  const c = new Compiler(opts, problems);
  tasks.forEach((t, i) => c.topTask({ module: "", config: t, pos: { file: "", line: 0, col: 0 } }, i));
  return problems;
}

/** The bash definitions of the helpers that `tasks` use (print them once per RUN, before the tasks). */
export function ansibleHelpers(tasks: readonly CompiledTask[]): string[] {
  return helperLines(tasks.flatMap((t) => t.helpers));
}

interface Inherited {
  vars: Record<string, unknown>;
  environment: Record<string, unknown>;
  becomeUser?: string;
  become?: boolean;
  when: string[];
}

class Compiler {
  /** Registered names of the current RUN. */
  private registered = new Map<string, RegFields>();
  /** With asLayers: names registered by tasks of earlier RUNs (their values are gone). */
  private earlier = new Set<string>();
  /** Whether the module of the task being compiled wrote registered results (ansible_set). */
  private setsFacts = false;
  private helpers = new Set<string>();
  private facts: Record<string, unknown> = {};
  private pos!: SourcePos;
  private label = "";
  /** The task (or block child) being compiled, and its module. */
  private current: Record<string, unknown> = {};
  private module: string | undefined;
  /** The `register:` name of the leaf task being compiled. */
  private registerName: string | undefined;
  /** Collecting mode (checkAnsibleTasks): problems are recorded per task instead of thrown. */
  constructor(readonly opts: CompileOptions, readonly problems?: AnsibleProblem[]) {}

  topTask(task: AnsibleTask, index: number): CompiledTask {
    this.pos = task.pos;
    this.helpers = new Set();
    if (this.opts.asLayers) {
      // one RUN (and, under werf, one ansible-playbook run) per task: registered values and facts do not carry over
      for (const n of this.registered.keys()) this.earlier.add(n);
      this.registered = new Map();
      this.facts = {};
    }
    const name = typeof task.config.name === "string" ? task.config.name : undefined;
    this.label = name !== undefined ? `task "${name}"` : `task ${index + 1}`;
    let lines: string[];
    try {
      lines = this.task(task.config, { vars: {}, environment: {}, when: [] }, this.label);
    } catch (e) {
      if (!(e instanceof TaskFailure)) throw e;
      throw new UserError({ pos: this.pos, message: e.problem.message, hint: e.problem.hint });
    }
    const module = task.module || "?";
    const title = name !== undefined ? `"${oneLine(name)}" ` : "";
    return {
      comment: `# task ${index + 1} ${title}(${module}) — ${task.pos.file}:${task.pos.line}`,
      pos: task.pos,
      lines,
      helpers: [...this.helpers].sort(),
    };
  }

  /** Refuse the current task; `key` (an option or task keyword) points at what is refused. */
  fail(message: string, hint?: string, key?: string): never {
    const t = this.current;
    const opts = this.module !== undefined ? t[this.module] : undefined;
    const has = (o: unknown): o is Record<string, unknown> => o !== null && typeof o === "object" && !Array.isArray(o) && key !== undefined && key in o;
    const container = has(opts) ? opts : has(t.args) ? t.args : has(t) ? t : t;
    const located = container !== t || (key !== undefined && key in t) ? key : undefined;
    throw new TaskFailure({ container, key: located, message: `ansible ${this.label}: ${message}`, hint: hint ?? DEFAULT_HINT });
  }

  /** Runs f, turning its JinjaError/TaskProblem into a located refusal (`key`: the keyword being read). */
  guard<T>(f: () => T, key?: string): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof JinjaError) this.fail(e.message, "only {{ item }}, task vars and the filters default, join, quote (and lower, upper, trim, string, int, bool) are supported", key);
      if (e instanceof TaskProblem) this.fail(e.message, e.hint, e.option);
      throw e;
    }
  }

  task(config: Record<string, unknown>, inh: Inherited, label: string): string[] {
    const [saved, savedModule, savedLabel] = [this.current, this.module, this.label];
    this.current = config;
    this.module = undefined;
    this.label = label;
    try {
      return this.taskLines(config, inh, label);
    } catch (e) {
      if (!(e instanceof TaskFailure) || this.problems === undefined) throw e;
      this.problems.push(e.problem);
      return [];
    } finally {
      [this.current, this.module, this.label] = [saved, savedModule, savedLabel];
    }
  }

  taskLines(config: Record<string, unknown>, inh: Inherited, label: string): string[] {
    const keys = Object.keys(config);
    for (const k of keys) {
      if (k.startsWith("with_") && k !== "with_items" && k !== "with_list" && config[k] != null)
        this.fail(`\`${k}\` is not supported`, "use `with_items:` or `loop:` with a list", k);
      for (const bad of ["until", "retries", "delay", "async", "poll", "delegate_to", "delegate_facts", "local_action", "action", "vars_files", "failed_when"])
        if (k === bad && config[k] != null) this.fail(`task keyword \`${k}\` is not supported by stapel2docker`, "write the step as a `shell` task", k);
    }
    // keywords that would change what the task does: accepted only at their no-op value
    if (config.check_mode != null && toBool(config.check_mode))
      this.fail("`check_mode: yes` is not supported by stapel2docker (the task would change nothing)", "remove the task, or `check_mode`", "check_mode");
    if (config.module_defaults != null && (typeof config.module_defaults !== "object" || Object.keys(config.module_defaults).length > 0))
      this.fail("`module_defaults` is not supported by stapel2docker", "write the options into each task", "module_defaults");
    void IGNORED_KEYWORDS;
    const vars = { ...inh.vars, ...this.facts, ...(this.obj(config.vars, "vars") ?? {}) };
    const scope = (item?: unknown): Scope => (item === undefined ? vars : { ...vars, item });
    const environment = { ...inh.environment, ...(this.obj(this.guard(() => renderDeep(config.environment, vars)), "environment") ?? {}) };
    const become = config.become !== undefined ? toBool(config.become) : inh.become;
    // werf's ansible.cfg has `become = yes`: become_user alone switches user
    const becomeUserRaw = config.become_user !== undefined ? toText(this.guard(() => renderTemplate(toText(config.become_user), vars))) : inh.becomeUser;
    const becomeUser = become === false ? undefined : becomeUserRaw;
    const sub: Inherited = { vars, environment, become, becomeUser, when: inh.when };

    const isBlock = ["block", "rescue", "always"].some((k) => config[k] != null);
    const module = isBlock ? "block" : keys.find((k) => !TASK_KEYWORDS.has(k) && !k.startsWith("with_") && config[k] !== undefined);
    if (module === undefined) this.fail("the task names no module");
    if (!isBlock) this.module = module;

    // items
    const loopRaw = config.loop ?? config.with_items ?? config.with_list;
    let items: unknown[] | undefined;
    if (loopRaw != null) {
      let v: unknown = loopRaw;
      if (typeof v === "string") v = this.guard(() => renderTemplate(v as string, vars));
      if (!Array.isArray(v)) this.fail("the loop must be a list", "give `loop:`/`with_items:` a YAML list (or a variable holding one)", config.loop != null ? "loop" : config.with_items != null ? "with_items" : "with_list");
      items = config.with_items != null ? v.flatMap((x) => (Array.isArray(x) ? x : [x])) : v;
      items = items.map((x) => (typeof x === "string" ? this.guard(() => renderTemplate(x, vars)) : x));
    }
    if (config.loop_control != null) {
      const lc = this.obj(config.loop_control, "loop_control")!;
      if (Object.keys(lc).some((k) => k !== "label")) this.fail("loop_control: only `label` is supported", "remove the other loop_control options", "loop_control");
    }

    const out: string[] = [];
    const one = (item: unknown): string[] => {
      const sc = scope(item);
      if (isBlock) return this.block(config, sub, sc, label);
      return this.moduleLines(module, config, sc, sub);
    };
    const register = config.register != null ? toText(config.register) : undefined;
    this.registerName = register;
    this.setsFacts = false;
    const bodies = items === undefined ? [one(undefined)] : items.map((it) => [`# item: ${oneLine(toText(it))}`, ...one(it)]);
    const setsFacts = this.setsFacts;

    // when (per item when it uses the item)
    if (register !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(register)) this.fail(`register name ${JSON.stringify(register)} is not a valid variable name`, "use letters, digits and `_`", "register");
    const ignore = config.ignore_errors != null && toBool(this.guard(() => renderTemplate(toText(config.ignore_errors), vars)));
    const condFor = (item: unknown): { static: boolean } | { bash: string } => {
      if (config.when == null) return { static: true };
      const text = JSON.stringify(config.when);
      for (const n of this.earlier)
        if (!this.registered.has(n) && new RegExp(`\\b${n}\\b`).test(text))
          this.fail(`when reads \`${n}\`, registered by an earlier task: with asLayers each task is its own RUN and registered values do not reach the next one`, "drop asLayers, or test the condition in the same shell task", "when");
      return this.guard(() => compileWhen(config.when, scope(item), this.registered), "when");
    };

    const wrapped: string[] = [];
    const withEnv = (body: string[]): string[] => {
      const env = Object.keys(environment).sort().map((k) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) this.fail(`environment name ${JSON.stringify(k)} is not valid`, "use letters, digits and `_`", "environment");
        return `export ${k}=${q(toText(environment[k]))}`;
      });
      return [...env, ...body];
    };
    (items ?? [undefined]).forEach((item, i) => {
      const cond = condFor(item);
      if ("static" in cond && !cond.static) {
        wrapped.push(`# skipped: when ${oneLine(JSON.stringify(config.when))} is false`);
        return;
      }
      const body = isBlock ? bodies[i]! : ["(", ...indent(withEnv(bodies[i]!)), ")"];
      if ("bash" in cond) wrapped.push(`if ${cond.bash}; then`, ...indent(body), "fi");
      else wrapped.push(...body);
    });

    if (register === undefined && !ignore) return [...out, ...wrapped];
    // run with errexit off around the task, keep rc (and stdout when registered)
    this.helpers.add("ansible_fail");
    const res: string[] = [];
    if (register !== undefined) {
      if (items !== undefined) this.fail("register with a loop is not supported", "register a task without a loop", "register");
      const fields = isBlock ? {} : (REGISTER_FIELDS[module] ?? {});
      this.registered.set(register, fields);
      // results the module may leave unset (stat of a missing path) must not keep an earlier task's value
      if (Object.keys(fields).length > 0) res.push(`unset ${Object.keys(fields).map((f) => regVar(register, f)).join(" ")}`);
      res.push(`${regVar(register, "rc")}=0 ${regVar(register, "stdout")}= ${regVar(register, "skipped")}=1`);
    }
    const captured = register !== undefined && !isBlock;
    res.push("set +e");
    if (captured && setsFacts) res.push("ansible_regfile=$(/.stapel/bin/mktemp)");
    if (captured) {
      res.push("ansible_out=$(/.stapel/bin/mktemp)");
      res.push(`${regVar(register!, "skipped")}=`);
      res.push("( set -e", ...indent(wrapped), `) > "$ansible_out"`);
    } else res.push("( set -e", ...indent(wrapped), ")");
    res.push("ansible_rc=$?", "set -e");
    if (captured) {
      res.push(`/.stapel/bin/cat "$ansible_out"; ${regVar(register!, "stdout")}=$(/.stapel/bin/cat "$ansible_out"); /.stapel/bin/rm -f "$ansible_out"`);
    }
    if (captured && setsFacts) res.push('. "$ansible_regfile"; /.stapel/bin/rm -f "$ansible_regfile"');
    if (register !== undefined) res.push(`${regVar(register, "rc")}=$ansible_rc`);
    if (ignore) res.push(`if [ "$ansible_rc" -ne 0 ]; then echo "...ignoring (rc=$ansible_rc)"; fi`);
    else res.push(`if [ "$ansible_rc" -ne 0 ]; then exit "$ansible_rc"; fi`);
    return res;
  }

  block(config: Record<string, unknown>, inh: Inherited, scope: Scope, label: string): string[] {
    const list = (k: string): Record<string, unknown>[] => {
      const v = config[k];
      if (v == null) return [];
      if (!Array.isArray(v)) this.fail(`\`${k}\` must be a list of tasks`, "indent the tasks under it as a list", k);
      return v as Record<string, unknown>[];
    };
    const sub: Inherited = { ...inh, vars: { ...scope } };
    const children = (k: string) =>
      list(k).flatMap((c, i) => {
        const n = typeof c.name === "string" ? `"${oneLine(c.name)}"` : `${i + 1}`;
        return [`# ${k} task ${n}`, ...this.task(c, sub, `${label} / ${k} ${n}`)];
      });
    const block = children("block");
    const rescue = children("rescue");
    const always = children("always");
    if (rescue.length === 0 && always.length === 0) return ["{", ...indent(block), "}"];
    this.helpers.add("ansible_fail");
    const lines = ["set +e", "( set -e", ...indent(block), ")", "ansible_block_rc=$?", "set -e"];
    if (rescue.length > 0) {
      lines.push('if [ "$ansible_block_rc" -ne 0 ]; then', "  set +e", "  ( set -e", ...indent(indent(rescue)), "  )", "  ansible_block_rc=$?", "  set -e", "fi");
    }
    if (always.length > 0) lines.push("(", ...indent(always), ")");
    lines.push('if [ "$ansible_block_rc" -ne 0 ]; then exit "$ansible_block_rc"; fi');
    return lines;
  }

  moduleLines(module: string, config: Record<string, unknown>, scope: Scope, inh: Inherited): string[] {
    if (module === "set_fact") {
      const facts = this.obj(this.guard(() => renderDeep(config.set_fact, scope)), "set_fact") ?? {};
      Object.assign(this.facts, facts);
      return [`: # set_fact ${Object.keys(facts).sort().join(", ")} (known at compile time)`];
    }
    if (module === "assert") {
      const a = this.obj(config.assert, "assert") ?? {};
      const that = Array.isArray(a.that) ? a.that : [a.that];
      const msg = a.fail_msg ?? a.msg ?? "Assertion failed";
      const lines: string[] = [];
      for (const t of that) {
        const r = this.guard(() => compileWhen(t, scope, this.registered));
        if ("static" in r) {
          if (!r.static) lines.push(`echo ${q(toText(msg))} >&2`, "exit 1");
        } else lines.push(`${r.bash} || { echo ${q(toText(msg))} >&2; exit 1; }`);
      }
      return lines.length ? lines : [": # assertions hold"];
    }
    const compiler: ModuleCompiler | undefined = MODULES[module];
    if (compiler === undefined) {
      if (SUPPORTED_ANSIBLE_MODULES.includes(module))
        this.fail(`module \`${module}\` is supported by werf but not by stapel2docker`, "write the step as a `shell` task (docs/ansible.md lists the compiled modules)", module);
      this.fail(`unsupported ansible task! \`${module}\` is not a module werf supports`, `supported modules: ${SUPPORTED_ANSIBLE_MODULES.join(", ")}`, module);
    }
    return this.guard(() => {
      const raw = config[module];
      const argsKw = (this.obj(config.args, "args") ?? {}) as Record<string, unknown>;
      let values: Record<string, unknown> = {};
      let freeForm: string | undefined;
      if (typeof raw === "string" || typeof raw === "number") {
        const text = String(raw);
        if (FREE_FORM_MODULES.has(module)) {
          const split = splitFreeForm(text);
          freeForm = split.rest;
          values = split.params;
        } else values = parseKv(text);
      } else if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) values = { ...(raw as Record<string, unknown>) };
      else if (raw != null) throw new TaskProblem(`${module}: options must be a mapping or k=v text`);
      values = { ...argsKw, ...values };
      if (typeof values.cmd === "string" && freeForm === undefined && FREE_FORM_MODULES.has(module)) freeForm = values.cmd as string, delete values.cmd;
      const rendered = renderDeep(values, scope) as Record<string, unknown>;
      const ff = freeForm === undefined ? undefined : toText(renderTemplate(freeForm, scope));
      const args = new Args(module, rendered, ff);
      const become = inh.becomeUser !== undefined && inh.becomeUser !== "root" && inh.becomeUser !== "0" ? inh.becomeUser : undefined;
      if (become !== undefined && !["shell", "command", "raw", "script"].includes(module))
        throw new TaskProblem(`become_user with module \`${module}\` is not supported`, "use become_user with shell/command/raw, or set owner/group options");
      const register = this.registerName;
      const ctx: ModuleContext = {
        helper: (n) => this.helpers.add(n),
        becomeUser: become,
        result: (field) => {
          if (register === undefined) return undefined;
          this.helpers.add("ansible_set");
          this.setsFacts = true;
          return regVar(register, field);
        },
      };
      return compiler(args, ctx);
    });
  }

  obj(v: unknown, what: string): Record<string, unknown> | undefined {
    if (v == null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) this.fail(`\`${what}\` must be a mapping`, `write \`${what}:\` as \`key: value\` lines`, what);
    return v as Record<string, unknown>;
  }
}

function indent(lines: string[]): string[] {
  return lines.map((l) => (l === "" ? l : `  ${l}`));
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** `cmd chdir=/x creates=y`: ansible's free form for command modules; trailing known k=v pulled out. */
export function splitFreeForm(text: string): { rest: string; params: Record<string, unknown> } {
  const re = new RegExp(`(^|\\s)(${FREE_FORM_KEYS.join("|")})=("(?:[^"\\\\]|\\\\.)*"|'[^']*'|\\S+)`, "g");
  if (!re.test(text)) return { rest: text, params: {} };
  const params: Record<string, unknown> = {};
  const rest = text.replace(re, (_m, pre: string, k: string, v: string) => {
    params[k] = /^["']/.test(v) ? v.slice(1, -1) : v;
    return pre;
  });
  return { rest: rest.trim(), params };
}

/** `name=foo state=present`: ansible's k=v form of module options. */
export function parseKv(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S+)/g;
  let m: RegExpExecArray | null;
  let rest = text;
  while ((m = re.exec(text))) {
    out[m[1]!] = /^["']/.test(m[2]!) ? m[2]!.slice(1, -1) : m[2]!;
    rest = rest.replace(m[0], "");
  }
  if (rest.trim() !== "") throw new TaskProblem(`cannot read options ${JSON.stringify(text)} (expected key=value pairs)`);
  return out;
}
