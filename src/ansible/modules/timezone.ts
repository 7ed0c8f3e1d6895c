// timezone: name → /etc/localtime and /etc/timezone (Debian) as ansible's non-systemd Linux path does;
// hwclock is not supported (a build container has no clock to set).
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

export const timezone = (args: Args, ctx: ModuleContext): string[] => {
  const name = args.str("name");
  if (args.has("hwclock")) throw new TaskProblem("timezone: hwclock is not supported in a build container");
  args.checkUnused();
  if (name === undefined) return [];
  ctx.helper("ansible_fail");
  const zone = q(`/usr/share/zoneinfo/${name}`);
  return [
    `[ -f ${zone} ] || ansible_fail ${q(`given timezone "${name}" is not available`)}`,
    `if [ -f /etc/timezone ] || [ -f /etc/debian_version ]; then echo ${q(name)} > /etc/timezone; fi`,
    `${S}/ln -sfn ${zone} /etc/localtime`,
  ];
};
