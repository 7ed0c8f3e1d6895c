// The --progress modes (as buildx's), apart from src/builder/progress.ts so that the CLI declares its options
// without loading the builder.
export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "tty", "plain", "rawjson", "quiet"];
