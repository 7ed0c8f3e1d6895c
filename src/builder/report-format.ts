// The build report's format (src/builder/werf-report.ts), apart from it so that the CLI checks it without loading
// the builder.
export type ReportFormat = "json" | "envfile";

/** The format a report path asks for, as werf: `.env` → envfile, anything else JSON; `format` wins when given. */
export function reportFormatOf(file: string, format?: string): ReportFormat {
  if (format === "json" || format === "envfile") return format;
  return file.endsWith(".env") ? "envfile" : "json";
}
