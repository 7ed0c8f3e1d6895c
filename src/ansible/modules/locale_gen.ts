// locale_gen: enable (or disable) a locale in /etc/locale.gen and run locale-gen (Debian); on Ubuntu
// (/var/lib/locales/supported.d) locale-gen NAME / the local file, as ansible does.
import { Args, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

export const locale_gen = (args: Args, ctx: ModuleContext): string[] => {
  const name = args.need("name");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  args.checkUnused();
  ctx.helper("ansible_fail");
  const re = name.replace(/[.[\]*^$\\/]/g, (c) => "\\" + c);
  const lines = [
    `${S}/grep -q ${q(`^${name} `)} /usr/share/i18n/SUPPORTED 2>/dev/null || ansible_fail ${q(`The locale you've entered is not available on your system.`)}`,
  ];
  // ansible: present when `locale -a` lists it (normalised: lowercase, utf8 without dash)
  const norm = name.toLowerCase().replace(/utf-8/g, "utf8");
  lines.push(`if locale -a 2>/dev/null | ${S}/tr 'A-Z' 'a-z' | ${S}/sed 's/utf-8/utf8/' | ${S}/grep -qx ${q(norm)}; then have=1; else have=; fi`);
  if (state === "present") {
    lines.push(
      'if [ -z "$have" ]; then',
      "  if [ -d /var/lib/locales/supported.d ]; then locale-gen " + q(name) + "; else",
      `    ${S}/sed -i -E ${q(`s/^#[[:space:]]*(${re} .*)$/\\1/`)} /etc/locale.gen`,
      "    locale-gen",
      "  fi",
      "fi",
    );
  } else {
    lines.push(
      'if [ -n "$have" ]; then',
      "  if [ -d /var/lib/locales/supported.d ]; then locale-gen --purge; else",
      `    ${S}/sed -i -E ${q(`s/^(${re} .*)$/# \\1/`)} /etc/locale.gen`,
      "    locale-gen",
      "  fi",
      "fi",
    );
  }
  return lines;
};
