// Values of `build` options that the CLI checks and the builder uses: the --progress modes (as buildx's) and the
// report's format. Kept out of src/builder/ so that declaring the commands loads no pipeline module (start-up).
export type ProgressMode = "auto" | "tty" | "plain" | "rawjson" | "quiet";
export const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "tty", "plain", "rawjson", "quiet"];

export type ReportFormat = "json" | "envfile";

/** The format a report path asks for, as werf: `.env` → envfile, anything else JSON; `format` wins when given. */
export function reportFormatOf(file: string, format?: string): ReportFormat {
  if (format === "json" || format === "envfile") return format;
  return file.endsWith(".env") ? "envfile" : "json";
}
