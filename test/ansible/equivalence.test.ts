// Real ansible-playbook vs our compiled shell on the real engine (see equiv.ts): same filesystem changes
// (paths, contents, modes, owners) and the same success or failure, per module and option.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { cleanupToolchain, runBoth, setupImages, type RunOptions } from "./equiv.js";
import { TEST_KEY_ID } from "./aptrepo.js";
import { fixturesDir } from "../support/paths.js";

type Case = { name: string; tasks: Record<string, unknown>[]; files?: Record<string, string | Buffer>; fails?: boolean; opts?: RunOptions };

const LOCAL_SOURCE = "deb [trusted=yes] file:/.t/repo ./";
const useLocalRepo = { copy: { content: `${LOCAL_SOURCE}\n`, dest: "/etc/apt/sources.list.d/local.list" } };
const fixture = (f: string) => fs.readFileSync(path.join(fixturesDir, "ansible", f));
const WHEELS = "--no-index --find-links=/.t/files/wheels --break-system-packages --disable-pip-version-check";

const CASES: Case[] = [
  {
    name: "shell: free form, chdir, creates, removes, executable, stdin, environment",
    tasks: [
      { name: "mk", shell: "mkdir -p /srv/a && echo hello > /srv/a/one" },
      { shell: "pwd > where chdir=/srv/a" },
      { shell: "echo again > /srv/a/two", args: { creates: "/srv/a/one" } },
      { shell: "echo yes > /srv/a/three", args: { removes: "/srv/a/o*" } },
      { shell: "echo $0 ${BASH_VERSION:+bash} > /srv/a/exe", args: { executable: "/bin/bash" } },
      { shell: "cat > /srv/a/in", args: { stdin: "from stdin" } },
      { shell: "echo \"$GREETING $OTHER\" > /srv/a/env", environment: { GREETING: "hi there", OTHER: 5 } },
    ],
  },
  {
    name: "command and raw: quoting, $VARS, creates",
    tasks: [
      { command: "mkdir -p /srv/c" },
      { command: "touch '/srv/c/with space' \"/srv/c/q\\\"uote\" $HOME/.cmd-home" },
      { command: "touch /srv/c/never", args: { creates: "/srv/c/with space" } },
      { raw: "echo raw > /srv/c/raw; chmod 600 /srv/c/raw" },
    ],
  },
  {
    name: "copy: content, mode/owner/group, existing file keeps its mode, force no, src file into a dir",
    tasks: [
      { copy: { content: "a\nb\n", dest: "/etc/app.conf" } },
      { copy: { content: "secret", dest: "/etc/secret", mode: "0600", owner: "nobody", group: "nogroup" } },
      { copy: { content: "x", dest: "/etc/numeric", mode: 0o640, owner: "1", group: "2" } },
      { copy: { content: "new motd\n", dest: "/etc/motd" } },
      { copy: { content: "not written", dest: "/etc/debian_version", force: false } },
      { file: { path: "/opt/dir", state: "directory" } },
      { copy: { src: "/.t/files/tool.sh", dest: "/opt/dir/" } },
      { copy: { src: "/.t/files/tool.sh", dest: "/opt/renamed.sh", mode: "0755" } },
    ],
    files: { "tool.sh": "#!/bin/sh\necho tool\n" },
  },
  {
    name: "file: directory (mode, recurse owner), touch, link, hard, absent, symbolic mode, with_items",
    tasks: [
      { file: { path: "/srv/d/e/f", state: "directory", mode: "0750" } },
      { file: { path: "/srv/d", state: "directory", owner: "nobody", group: "nogroup", recurse: true } },
      { file: { path: "/srv/t", state: "touch", mode: "u=rw,g=r,o=" } },
      { file: { src: "/etc/os-release", dest: "/srv/link", state: "link" } },
      { file: { src: "/srv/t", dest: "/srv/hard", state: "hard" } },
      { file: { path: "/etc/issue.net", state: "absent" } },
      { file: { path: "/srv/nothing", state: "absent" } },
      { file: { path: "{{ item }}", mode: "a+x" }, with_items: ["/etc/issue", "/etc/host.conf"] },
      { file: { path: "{{ item }}", state: "absent" }, with_items: ["/var/lib/apt/*"] },
    ],
  },
  {
    name: "vars and filters: default, join, quote, lower; loop",
    tasks: [
      {
        shell: "echo {{ words | join('-') }} {{ missing | default('dflt') }} {{ name | quote }} {{ up | lower }} > /srv-vars",
        vars: { words: ["a", "b", "c"], name: "it's", up: "LOUD" },
      },
      { file: { path: "/srv-loop-{{ item }}", state: "directory" }, loop: ["x", "y"] },
    ],
  },
  {
    name: "group and user",
    tasks: [
      { group: { name: "app", gid: 1500, state: "present" } },
      { group: { name: "sysgrp", system: true } },
      { user: { name: "app", uid: 1500, group: "app", comment: "App User", shell: "/bin/bash", home: "/home/app" } },
      { user: { name: "plain" } },
      { user: { name: "svc", system: true, create_home: false, groups: "app" } },
      { user: { name: "app", shell: "/bin/sh" } },
    ],
  },
  {
    name: "register, when, ignore_errors, block/rescue/always",
    tasks: [
      { shell: "echo found", register: "r" },
      { shell: "echo yes > /srv-when-yes", when: "r.stdout == 'found'" },
      { shell: "echo no > /srv-when-no", when: "r.rc != 0" },
      { shell: "exit 4", register: "bad", ignore_errors: true },
      { shell: "echo failed > /srv-bad", when: "bad is failed" },
      { shell: "echo static > /srv-static", when: "flag", vars: { flag: false } },
      {
        block: [{ shell: "echo in block > /srv-block" }, { command: "false" }, { shell: "echo never > /srv-never" }],
        rescue: [{ shell: "echo rescued > /srv-rescue" }],
        always: [{ shell: "echo always > /srv-always" }],
      },
    ],
  },
  { name: "a failing shell task fails the run", tasks: [{ shell: "echo before > /srv-before" }, { shell: "exit 3" }, { shell: "echo after > /srv-after" }], fails: true },
  { name: "copy of a missing src fails", tasks: [{ copy: { src: "/nope", dest: "/srv-x" } }], fails: true },
  { name: "file state=file of a missing path fails", tasks: [{ file: { path: "/nope", mode: "0644" } }], fails: true },
  {
    name: "replace: groups, owner/group/mode",
    tasks: [
      { copy: { content: "HELLO world\nsay HELLO twice HELLO\nkey = 1\n", dest: "/MYFILE" } },
      { replace: { path: "/MYFILE", regexp: "HELLO", replace: "GOODBYE", owner: "300", group: "300", mode: "0755" } },
      { replace: { path: "/MYFILE", regexp: "^(key) = (\\d+)$", replace: "\\1: \\2" } },
    ],
  },
  {
    name: "get_url (file://) and unarchive (tar.gz, zip-less)",
    tasks: [
      { file: { path: "/opt/dl", state: "directory" } },
      { get_url: { url: "file:///.t/files/data.txt", dest: "/opt/dl/" } },
      { get_url: { url: "file:///.t/files/data.txt", dest: "/opt/dl/named.txt", mode: "0600", checksum: "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" } },
      { shell: "mkdir -p /build/pkg/sub && echo inner > /build/pkg/sub/f && tar -cf - --mtime=@0 --sort=name -C /build pkg | gzip -n > /opt/dl/pkg.tar.gz" },
      { file: { path: "/opt/x", state: "directory" } },
      { unarchive: { src: "/opt/dl/pkg.tar.gz", dest: "/opt/x", remote_src: true } },
      { unarchive: { src: "/opt/dl/pkg.tar.gz", dest: "/opt/x", creates: "/opt/x/pkg" } },
    ],
    files: { "data.txt": "hello\n" },
  },
  {
    // locale_gen and timezone live in community.general, which Debian's ansible-core lacks: not compared here
    name: "getent, debug, set_fact",
    tasks: [
      { getent: { database: "passwd", key: "root" } },
      { debug: { msg: "hello" } },
      { set_fact: { dir: "/srv-fact" } },
      { file: { path: "{{ dir }}", state: "directory" } },
    ],
  },
  {
    name: "apt (local repository): update_cache, name list, Depends and Recommends, postinst, absent",
    opts: { repo: true },
    tasks: [
      useLocalRepo,
      { apt: { update_cache: true } },
      { apt: { name: ["s2d-app"], state: "present" } },
      { apt: { name: "s2d-extra", state: "absent" } },
      { apt: { pkg: ["s2d-base", "s2d-app"] } },
    ],
  },
  {
    name: "apt (local repository): deb path, install_recommends no, present keeps, latest upgrades",
    opts: { repo: true },
    tasks: [
      useLocalRepo,
      { apt: { deb: "/.t/repo/s2d-app_1.0_all.deb", update_cache: true, install_recommends: false } },
      { apt: { name: "s2d-app", state: "present" } },
      { shell: "s2d-app > /srv-app-version" },
      { apt: { name: "s2d-app", state: "latest", install_recommends: "no" } },
      { shell: "s2d-app >> /srv-app-version" },
    ],
  },
  {
    name: "apt (local repository): absent with purge and autoremove, explicit install_recommends yes",
    opts: { repo: true },
    tasks: [
      useLocalRepo,
      { apt: { name: "s2d-app", update_cache: "yes", install_recommends: true } },
      { apt: { name: "s2d-app", state: "absent", purge: true, autoremove: true } },
    ],
  },
  {
    name: "apt: a package nobody has fails",
    opts: { repo: true },
    tasks: [useLocalRepo, { apt: { name: "s2d-nonexistent", update_cache: true } }],
    fails: true,
  },
  {
    name: "apt_key (file, data into a keyring, absent) and apt_repository (present with filename / suggested, absent)",
    opts: { repo: true },
    files: { "test-key.asc": fixture("test-key.asc") },
    tasks: [
      { apt_key: { file: "/.t/files/test-key.asc" } },
      { apt_key: { id: TEST_KEY_ID, data: "{{ lookup('file', '/.t/files/test-key.asc') }}", keyring: "/etc/apt/trusted.gpg.d/s2d.gpg" } },
      { apt_key: { id: TEST_KEY_ID, state: "absent" } },
      { apt_repository: { repo: LOCAL_SOURCE, filename: "local" } },
      { apt: { name: "s2d-base" } },
      { apt_repository: { repo: LOCAL_SOURCE, filename: "local", state: "absent", update_cache: false } },
      { apt_repository: { repo: LOCAL_SOURCE, update_cache: false, mode: "0600" } },
    ],
  },
  {
    name: "pip (local wheel dir): present, then absent of another install",
    opts: { pip: true },
    files: { "wheels/s2dpip-1.0-py3-none-any.whl": fixture("wheels/s2dpip-1.0-py3-none-any.whl") },
    tasks: [
      { pip: { name: "s2dpip", extra_args: WHEELS } },
      { pip: { name: ["s2dpip"], version: "1.0", extra_args: WHEELS } },
      { shell: "python3 -c 'import s2dpip; print(s2dpip.VERSION)' > /srv-pip" },
    ],
  },
  {
    name: "pip: absent",
    opts: { pip: true },
    files: { "wheels/s2dpip-1.0-py3-none-any.whl": fixture("wheels/s2dpip-1.0-py3-none-any.whl") },
    tasks: [
      { shell: `pip3 install ${WHEELS} s2dpip` },
      { pip: { name: "s2dpip", state: "absent", extra_args: "--break-system-packages" } },
      { shell: "python3 -c 'import s2dpip' || echo gone > /srv-pip" },
    ],
  },
  {
    name: "locale_gen (present: uncommented and commented lines, absent) and timezone (community.general)",
    tasks: [
      { copy: { content: "en_US.UTF-8 UTF-8\n# de_DE.UTF-8 UTF-8\n", dest: "/etc/locale.gen" } },
      { locale_gen: { name: "en_US.UTF-8", state: "present" } },
      { locale_gen: { name: "de_DE.UTF-8" } },
      { timezone: { name: "Europe/Berlin" } },
    ],
  },
  {
    name: "lineinfile: regexp (last match), EOF after a line without newline, insertafter/insertbefore, BOF, absent, exact line kept, firstmatch",
    tasks: [
      { copy: { content: "a=1\n# port=80\nb=2\nport = 1\nlast", dest: "/etc/t1" } },
      { lineinfile: { path: "/etc/t1", regexp: "^#? ?port ?=", line: "port=8080" } },
      { lineinfile: { path: "/etc/t1", line: "appended" } },
      { lineinfile: { path: "/etc/t1", line: "after-a", insertafter: "^a=" } },
      { lineinfile: { path: "/etc/t1", line: "before-b", insertbefore: "^b=" } },
      { lineinfile: { path: "/etc/t1", line: "top", insertbefore: "BOF" } },
      { lineinfile: { path: "/etc/t1", regexp: "^b=", state: "absent" } },
      { lineinfile: { path: "/etc/t1", line: "appended" } },
      { lineinfile: { path: "/etc/t1", line: "a=1", state: "absent" } },
      { copy: { content: "x\nk=1\ny\nk=2\n", dest: "/etc/t3", mode: "0640" } },
      { lineinfile: { path: "/etc/t3", line: "after-first-k", insertafter: "^k=", firstmatch: true } },
      { lineinfile: { path: "/etc/t3", line: "after-last-k", insertafter: "^k=" } },
      { lineinfile: { path: "/etc/t3", line: "not-found-goes-last", insertbefore: "^nothing" } },
      { lineinfile: { dest: "/etc/t3", regexp: "^k=", line: "k=first", firstmatch: true } },
      { lineinfile: { path: "/etc/login.defs", regexp: "^UMASK", line: "UMASK 027" } },
    ],
  },
  {
    name: "lineinfile: backrefs (match, no match), create with mode/owner and directories, existing file attributes",
    tasks: [
      { copy: { content: "host=old.example port=1\nother\n", dest: "/etc/t2" } },
      { lineinfile: { path: "/etc/t2", regexp: "^host=([a-z]+)\\.example (port)=.*", line: "host=\\1.new \\g<2>=2", backrefs: true } },
      { lineinfile: { path: "/etc/t2", regexp: "^nomatch(.*)", line: "\\1 gone", backrefs: true } },
      { lineinfile: { path: "/srv/new/dir/f.conf", create: true, line: "x=1", mode: "0600", owner: "nobody" } },
      { lineinfile: { path: "/etc/host.conf", line: "multi on", group: "nogroup" } },
      { lineinfile: { path: "/etc/{{ item }}", line: "# touched", insertbefore: "BOF" }, with_items: ["issue", "issue.net"] },
    ],
  },
  {
    name: "lineinfile: special characters, regexp without match falls back to insertafter, search_string, $ anchors, \\d and \\s",
    tasks: [
      { copy: { content: "PATH=/usr/bin\nlisten 80\nname = 'x' # c\n[section]\n", dest: "/etc/t5" } },
      { lineinfile: { path: "/etc/t5", regexp: "^export FOO=", line: "export FOO=\"a & b\" \\ 100% $HOME `x`", insertafter: "^PATH=" } },
      { lineinfile: { path: "/etc/t5", regexp: "^listen\\s+\\d+$", line: "listen 8080" } },
      { lineinfile: { path: "/etc/t5", search_string: "'x' #", line: "name = 'y'" } },
      { lineinfile: { path: "/etc/t5", regexp: "^\\[section\\]$", line: "[section]" } },
      { lineinfile: { path: "/etc/t5", line: "after section", insertafter: "^\\[section" } },
      { lineinfile: { path: "/etc/t5", regexp: "^(PATH)=(.*)$", line: "\\1=/opt/bin:\\2 & more", backrefs: true } },
      { lineinfile: { path: "/etc/t5", search_string: "after", state: "absent" } },
    ],
  },
  {
    name: "lineinfile: a missing file without create fails",
    tasks: [{ lineinfile: { path: "/etc/nothing-here", line: "x" } }],
    fails: true,
  },
  {
    name: "stat with register: exists, isdir, isreg, islnk, mode, uid, defined fields in later whens",
    tasks: [
      { file: { path: "/srv", state: "directory" } },
      { file: { src: "/etc/hostname", dest: "/srv/link", state: "link" } },
      { stat: { path: "/etc/os-release" }, register: "s1" },
      { stat: { path: "/nonexistent" }, register: "s2" },
      { stat: { path: "/etc" }, register: "s3" },
      { stat: { path: "/srv/link" }, register: "s4" },
      { stat: { path: "/etc/shadow" }, register: "s5" },
      { copy: { content: "1", dest: "/srv/exists" }, when: "s1.stat.exists" },
      { copy: { content: "1", dest: "/srv/not-exists" }, when: "not s2.stat.exists" },
      { copy: { content: "1", dest: "/srv/exists-false" }, when: "s2.stat.exists == false" },
      { copy: { content: "1", dest: "/srv/never" }, when: "s2.stat.exists" },
      { copy: { content: "1", dest: "/srv/isdir" }, when: "s3.stat.isdir and not s3.stat.isreg" },
      { copy: { content: "1", dest: "/srv/isdir-defined" }, when: "s3.stat.isdir is defined and s3.stat.isdir" },
      { copy: { content: "1", dest: "/srv/isdir-undefined" }, when: "s2.stat.isdir is not defined" },
      { copy: { content: "1", dest: "/srv/islnk" }, when: "s4.stat.islnk and not s4.stat.isreg" },
      { stat: { path: "/etc/debian_version" }, register: "s6" },
      { copy: { content: "1", dest: "/srv/os-release-not-reg" }, when: "s1.stat.islnk and not s1.stat.isreg" },
      { copy: { content: "1", dest: "/srv/mode-0644" }, when: "s6.stat.isreg and s6.stat.mode == '0644'" },
      { copy: { content: "1", dest: "/srv/mode-0640" }, when: "s5.stat.mode == '0640'" },
      { copy: { content: "1", dest: "/srv/uid-0" }, when: "s5.stat.uid == 0 and s5.stat.pw_name == 'root'" },
      { copy: { content: "1", dest: "/srv/group-shadow" }, when: "s5.stat.gr_name == 'shadow'" },
      { copy: { content: "1", dest: "/srv/size" }, when: "s1.stat.size > 10" },
    ],
  },
  {
    name: "blockinfile: EOF after a line without newline, replaced in place, custom marker, insertafter/insertbefore, BOF, absent, create",
    tasks: [
      { copy: { content: "[main]\nkey=1\n[other]\nx=2", dest: "/etc/b1.ini" } },
      { blockinfile: { path: "/etc/b1.ini", block: "added=1\nadded=2" } },
      { blockinfile: { path: "/etc/b1.ini", block: "replaced=1\n" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "; {mark} s2d", block: "after-main=1", insertafter: "^\\[main\\]" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "; {mark} s2d", block: "after-main=2", insertafter: "^\\[main\\]" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "# {mark} top", marker_begin: "START", marker_end: "STOP", block: "top", insertbefore: "BOF" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "# {mark} before-other", block: "b=1", insertbefore: "^\\[other" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "# {mark} nowhere", block: "n=1", insertafter: "^nothing-matches" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "# {mark} before-other", state: "absent" } },
      { blockinfile: { path: "/etc/b1.ini", marker: "# {mark} top", block: "" } },
      { blockinfile: { path: "/srv/new/b2", create: true, block: "created", mode: "0600" } },
      { blockinfile: { path: "/srv/new/b3", create: true, state: "present" } },
      { blockinfile: { path: "/srv/b-missing/f", state: "absent", create: true } },
      { copy: { content: "no newline", dest: "/etc/b4" } },
      { blockinfile: { path: "/etc/b4", state: "absent" } },
      { blockinfile: { path: "/etc/issue", content: "{{ item }}" }, loop: ["one", "two"] },
    ],
  },
  {
    name: "blockinfile: a missing file without create fails",
    tasks: [{ blockinfile: { path: "/etc/nothing-here", block: "x" } }],
    fails: true,
  },
  {
    name: "ini_file: set, replace, commented option reused, duplicates removed, new section, no_extra_spaces, no section, absent option/section, create",
    tasks: [
      { copy: { content: "top=1\n[main]\n# key = old\nother = 2\n\n[dup]\na = 1\na = 2\n; comment\n\n[gone]\nz = 1\n[last]\nq = 1", dest: "/etc/i1.ini" } },
      { ini_file: { path: "/etc/i1.ini", section: "main", option: "key", value: "new" } },
      { ini_file: { path: "/etc/i1.ini", section: "main", option: "added", value: "3" } },
      { ini_file: { path: "/etc/i1.ini", section: "main", option: "other", value: "2" } },
      { ini_file: { path: "/etc/i1.ini", section: "dup", option: "a", value: "9" } },
      { ini_file: { path: "/etc/i1.ini", section: "new", option: "n", value: "x y", no_extra_spaces: true } },
      { ini_file: { path: "/etc/i1.ini", section: null, option: "top", value: "2" } },
      { ini_file: { path: "/etc/i1.ini", option: "top2", value: "t" } },
      { ini_file: { path: "/etc/i1.ini", section: "main", option: "other", state: "absent" } },
      { ini_file: { path: "/etc/i1.ini", section: "gone", state: "absent" } },
      { ini_file: { path: "/etc/i1.ini", section: "last", option: "r", value: "2" } },
      { ini_file: { dest: "/srv/conf/i2.ini", section: "s", option: "o", value: "v", mode: "0640", group: "nogroup" } },
      { ini_file: { path: "/srv/conf/i3.ini", section: "s", option: "o", state: "absent" } },
      { copy: { content: "[s]\nk = 1\nk = 2\n", dest: "/etc/i4.ini" } },
      { ini_file: { path: "/etc/i4.ini", section: "s", option: "k", value: "2", exclusive: false } },
      { ini_file: { path: "/etc/i4.ini", section: "s", option: "k", value: "1", state: "absent", exclusive: false } },
    ],
  },
  {
    name: "ini_file: create no on a missing file fails",
    tasks: [{ ini_file: { path: "/etc/nothing.ini", section: "s", option: "o", value: "v", create: false } }],
    fails: true,
  },
  {
    name: "script: absolute path with arguments (quoted, $VARS), chdir, creates, removes, executable, environment, become_user, $0 is a copy",
    files: { "s.sh": "#!/bin/sh\n[ \"$1\" != chdir ] || pwd >> /srv/script.out\necho \"$# [$1] [$2] $GREET\" >> /srv/script.out\ncase \"$0\" in /.t/*) echo direct >> /srv/script.out;; *) echo copied >> /srv/script.out;; esac\n", "p.txt": "echo from-bash-executable >> /srv/script.out\n" },
    tasks: [
      { file: { path: "/srv", state: "directory", mode: "0777" } },
      { script: "/.t/files/s.sh one 'two words' $HOME" },
      { script: "/.t/files/s.sh chdir", args: { chdir: "/etc" }, environment: { GREET: "hi there" } },
      { script: "/.t/files/s.sh never", args: { creates: "/srv/script.out" } },
      { script: "/.t/files/s.sh removes", args: { removes: "/srv/script.out" } },
      { script: "/.t/files/p.txt", args: { executable: "/bin/bash" } },
      { user: { name: "scripter", create_home: false } },
      { file: { path: "/srv/script.out", mode: "0666" } },
      { script: "/.t/files/s.sh as-user", become: true, become_user: "scripter" },
      { script: { cmd: "/.t/files/s.sh cmd-form" } },
    ],
  },
  {
    name: "script: a failing script fails",
    files: { "f.sh": "#!/bin/sh\necho partial > /srv-partial\nexit 3\n" },
    tasks: [{ script: "/.t/files/f.sh" }],
    fails: true,
  },
  {
    name: "assemble: name order, a fragment without newline, hidden files, regexp, delimiter with escapes, mode, unchanged dest kept",
    files: {
      "frag/10-b.conf": "b=1\n", "frag/02-a.conf": "a=1", "frag/.hidden": "hidden\n", "frag/20-c.txt": "c\n",
      "frag/sub/x": "not a file of frag\n", "frag/30-empty.conf": "",
    },
    tasks: [
      { assemble: { src: "/.t/files/frag", dest: "/etc/all.conf" } },
      { assemble: { src: "/.t/files/frag", dest: "/etc/filtered.conf", regexp: "\\.conf$", ignore_hidden: true, delimiter: "### sep\\t1", mode: "0600" } },
      { copy: { content: "b=1\n", dest: "/etc/same.conf", mode: "0640" } },
      { assemble: { src: "/.t/files/frag", dest: "/etc/same.conf", regexp: "^10-" } },
    ],
  },
  {
    name: "assemble: a missing src directory fails",
    tasks: [{ assemble: { src: "/nonexistent", dest: "/etc/x" } }],
    fails: true,
  },
  {
    name: "yum_repository: new file, unchanged rerun, a section added to a file with comments and continuations, lists, absent section and file",
    tasks: [
      { file: { path: "/etc/yum.repos.d", state: "directory" } },
      { copy: { content: "# kept only if untouched\n[base]\nName=Base\nbaseurl=http://a/\n  http://b/\nenabled : 1\n\n[updates]\nname=U\nbaseurl=http://u/\n", dest: "/etc/yum.repos.d/base.repo" } },
      { copy: { content: "# untouched\n[z]\nname=Z\nbaseurl=http://z/\n", dest: "/etc/yum.repos.d/z.repo" } },
      { yum_repository: { name: "epel", description: "EPEL repo", baseurl: "http://x/epel", gpgcheck: false, enabled: true, mode: "0600" } },
      { yum_repository: { name: "epel", description: "EPEL repo", baseurl: "http://x/epel", gpgcheck: false, enabled: true } },
      { yum_repository: { name: "z", description: "Z", baseurl: "http://z/", file: "z" } },
      { yum_repository: { name: "extra", file: "base", description: "Extra packages", mirrorlist: "http://m/?r=1&x=%s", exclude: ["a*", "b"], baseurl: ["http://e1/", "http://e2/"], gpgkey: "file:///k", sslverify: false, priority: 5, failovermethod: "priority" } },
      { yum_repository: { name: "updates", file: "base", state: "absent" } },
      { yum_repository: { name: "one", description: "One", baseurl: "http://o/" } },
      { yum_repository: { name: "one", state: "absent" } },
    ],
  },
  {
    name: "yum_repository: a missing repos dir fails",
    tasks: [{ yum_repository: { name: "r", description: "R", baseurl: "http://r/", reposdir: "/nonexistent" } }],
    fails: true,
  },
  {
    name: "wait_for: a path present, absent, with search_regex, a plain sleep, a port started and another stopped, delay",
    files: { "www/x": "x" },
    tasks: [
      { shell: "if [ -x /.stapel/bin/httpd ]; then /.stapel/bin/httpd -p 127.0.0.1:8080 -h /.t/files/www; else cd /.t/files/www && (python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &); fi" },
      { wait_for: { path: "/etc/os-release", timeout: 5 } },
      { wait_for: { path: "/nonexistent", state: "absent", timeout: 5 } },
      { wait_for: { path: "/etc/os-release", search_regex: "^ID=debian$", timeout: 5 } },
      { wait_for: { timeout: 1 } },
      { wait_for: { port: 8080, host: "127.0.0.1", timeout: 20, delay: 1 } },
      { wait_for: { port: 8099, state: "stopped", timeout: 5 } },
      { copy: { content: "waited\n", dest: "/srv-waited" } },
    ],
  },
  {
    name: "wait_for: a timeout fails",
    tasks: [{ wait_for: { path: "/nonexistent", timeout: 2, sleep: 1 } }],
    fails: true,
  },
  {
    name: "uri (a local HTTP server): dest file and dir, return_content and status in whens, status_code list, a failing status ignored, creates, headers",
    files: { "www/data.txt": "hello from the server\n", "www/other.json": "{\"a\": 1}\n" },
    tasks: [
      // python's http.server on the ansible side, the toolchain's busybox httpd on ours (no python there)
      { shell: "if [ -x /.stapel/bin/httpd ]; then /.stapel/bin/httpd -p 127.0.0.1:8080 -h /.t/files/www; else cd /.t/files/www && (python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &); fi; sleep 2" },
      { file: { path: "/srv/dir", state: "directory" } },
      { uri: { url: "http://127.0.0.1:8080/data.txt", dest: "/srv/data.txt", headers: { "X-Test": "1" } } },
      { uri: { url: "http://127.0.0.1:8080/other.json", dest: "/srv/dir/", mode: "0600" } },
      { uri: { url: "http://127.0.0.1:8080/data.txt", return_content: true }, register: "r1" },
      { copy: { content: "1", dest: "/srv/content-has-hello" }, when: "'hello from' in r1.content and r1.status == 200" },
      { copy: { content: "1", dest: "/srv/content-equal" }, when: "r1.content == 'hello from the server\n'" },
      { uri: { url: "http://127.0.0.1:8080/missing", status_code: [200, 404] }, register: "r2" },
      { copy: { content: "1", dest: "/srv/r2-404" }, when: "r2.status == 404" },
      { uri: { url: "http://127.0.0.1:8080/missing" }, register: "r3", ignore_errors: true },
      { copy: { content: "1", dest: "/srv/r3-failed" }, when: "r3 is failed and r3.status == 404" },
      { uri: { url: "http://127.0.0.1:8080/data.txt", dest: "/srv/never", creates: "/srv/data.txt" } },
      { uri: { url: "http://127.0.0.1:8080/data.txt", status_code: "200" }, register: "r4" },
      { copy: { content: "1", dest: "/srv/r4-ok" }, when: "r4.status == 200 and r4 is succeeded" },
    ],
  },
  {
    name: "uri: a status not accepted fails",
    files: { "www/x": "x" },
    tasks: [
      { shell: "if [ -x /.stapel/bin/httpd ]; then /.stapel/bin/httpd -p 127.0.0.1:8080 -h /.t/files/www; else cd /.t/files/www && (python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &); fi; sleep 2" },
      { uri: { url: "http://127.0.0.1:8080/missing" } },
    ],
    fails: true,
  },
];

describe("ansible equivalence on the real engine", { timeout: 1_800_000 }, () => {
  before(async () => {
    await setupImages();
  }, { timeout: 1_500_000 });
  after(() => cleanupToolchain());

  const only = process.env.S2D_ANSIBLE_CASES;
  for (const c of CASES.filter((c) => only === undefined || c.name.includes(only))) {
    test(c.name, { timeout: 300_000 }, async () => {
      const r = await runBoth(c.tasks, c.files, c.opts);
      const detail = `\n--- ansible output:\n${r.ansible.output.slice(-3000)}\n--- our output:\n${r.ours.output.slice(-3000)}\n--- script:\n${r.script}`;
      assert.equal(r.ansible.ok, !c.fails, `ansible ${c.fails ? "succeeded" : "failed"}${detail}`);
      assert.equal(r.ours.ok, r.ansible.ok, `ours ${r.ours.ok ? "succeeded" : "failed"}${detail}`);
      assert.ok(Object.keys(r.ansible.changes).length > 0 || c.fails, "the case changes something");
      assert.deepEqual(r.ours.changes, r.ansible.changes, `filesystem changes differ${detail}`);
    });
  }
});
