// Ansible stages compiled into readable shell: see compile.ts and docs/ansible.md.
export { compileAnsibleTasks, ansibleHelpers, type CompiledTask, type CompileOptions } from "./compile.js";
export { MODULES } from "./modules/index.js";
