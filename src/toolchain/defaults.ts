// The toolchain image's default references, apart from the code that makes it (the CLI shows them in its help
// without loading that code).
import { DEFAULT_TOOLCHAIN } from "../plan/model.js";

export { DEFAULT_TOOLCHAIN };
/** The Debian image `toolchain --build` starts from. */
export const DEFAULT_TOOLCHAIN_BASE = "debian:bookworm-slim";
