// The module compilers by module name (one file each).
import type { ModuleCompiler } from "../types.js";
import type { RegFields } from "../when.js";
import { apk } from "./apk.js";
import { apt } from "./apt.js";
import { apt_key } from "./apt_key.js";
import { apt_repository } from "./apt_repository.js";
import { assemble } from "./assemble.js";
import { blockinfile } from "./blockinfile.js";
import { command } from "./command.js";
import { copy } from "./copy.js";
import { debug } from "./debug.js";
import { dnf } from "./dnf.js";
import { fail } from "./fail.js";
import { file } from "./file.js";
import { get_url } from "./get_url.js";
import { getent } from "./getent.js";
import { group } from "./group.js";
import { lineinfile } from "./lineinfile.js";
import { ini_file } from "./ini_file.js";
import { locale_gen } from "./locale_gen.js";
import { meta } from "./meta.js";
import { pkg } from "./package.js";
import { pip } from "./pip.js";
import { raw } from "./raw.js";
import { replace } from "./replace.js";
import { script } from "./script.js";
import { shell } from "./shell.js";
import { stat, STAT_FIELDS } from "./stat.js";
import { tempfile } from "./tempfile.js";
import { timezone } from "./timezone.js";
import { unarchive } from "./unarchive.js";
import { uri, URI_FIELDS } from "./uri.js";
import { user } from "./user.js";
import { wait_for } from "./wait_for.js";
import { yarn } from "./yarn.js";
import { yum } from "./yum.js";
import { yum_repository } from "./yum_repository.js";

export const MODULES: Readonly<Record<string, ModuleCompiler>> = {
  apk, apt, apt_key, apt_repository, assemble, blockinfile, command, copy, debug, dnf, fail, file, get_url, getent, group, ini_file, lineinfile, locale_gen, meta,
  package: pkg, pip, raw, replace, script, shell, stat, tempfile, timezone, unarchive, uri, user, wait_for, yarn, yum, yum_repository,
};

/** The results a module registers besides rc/stdout (what a later `when` may read). */
export const REGISTER_FIELDS: Readonly<Record<string, RegFields>> = { stat: STAT_FIELDS, uri: URI_FIELDS };
