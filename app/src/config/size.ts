// Byte sizes as people write them: the settings (FETCH_MAX_BYTES…) and backfill's --max-size share
// this one parser, so both accept the same units.

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/**
 * "5000", "10MB", "1.5 GiB" → bytes; undefined when it is not a size. An exponent is read too:
 * Helm's toString writes a values file's 104857600 as "1.048576e+08".
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?(?:e\+?\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(text);
  if (match?.[1] === undefined) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit);
}
