// Dockerfile stage-name prefixes for images. BuildKit accepts stage names matching
// [a-z][a-z0-9._-]* (it lower-cases them), so image names are lower-cased, other characters become
// "-", a leading non-letter gets an "i-" prefix, and the nameless image is "werf-image". Distinct
// images that would collide get "-2", "-3"... in werf.yaml order.

export function slugOf(name: string): string {
  if (name === "") return "werf-image";
  let s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
  if (!/^[a-z]/.test(s)) s = `i-${s}`;
  return s;
}

export class Slugs {
  private readonly used = new Set<string>();

  take(name: string): string {
    const base = slugOf(name);
    let s = base;
    for (let n = 2; this.used.has(s); n++) s = `${base}-${n}`;
    this.used.add(s);
    return s;
  }
}
