// A misspelt access setting must not leave files open: ACL_METDATA_KEY=allowed would otherwise be
// ignored like any unknown variable, access control would be off, and every file readable. So any
// environment variable in the metadata and access families that is not a setting is an error.

/** The families of variable names checked: ACL_*, METADATA_*, S3_READ_*. */
const FAMILY = /^(ACL|METADATA|S3_READ)_/;

/** One message per unknown variable of the families, naming the nearest known one. */
export function unknownAccessVariables(env: NodeJS.ProcessEnv, known: readonly string[]): string[] {
  const family = known.filter((name) => FAMILY.test(name));
  return Object.keys(env)
    .filter((name) => FAMILY.test(name) && !known.includes(name))
    .sort()
    .map((name) => {
      const nearest = [...family].sort((a, b) => distance(name, a) - distance(name, b))[0];
      return `${name}: must be a setting (${family.join(', ')}), got an unknown variable${nearest === undefined ? '' : `; did you mean ${nearest}?`}`;
    });
}

/** Edit distance, for the suggestion. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
