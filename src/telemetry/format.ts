// Numbers in words, shared by the terminal (status, report), the hourly reports and the
// dashboard page: this file imports nothing, so the browser build (tsconfig.dashboard.json)
// compiles the very same code the server runs.

/** Expected seconds to a block: difficulty × 2^32 hashes on average, at `hashesPerSecond`. */
export function expectedSecondsToBlock(networkDifficulty: number | null | undefined, hashesPerSecond: number): number | null {
  if (networkDifficulty === null || networkDifficulty === undefined || !(networkDifficulty > 0) || !(hashesPerSecond > 0)) return null;
  return (networkDifficulty * 2 ** 32) / hashesPerSecond;
}

/** The chance of at least one block within `window` seconds when one takes `seconds` on average (Poisson). */
function chanceWithin(window: number, seconds: number | null): number | null {
  if (seconds === null) return null;
  return -Math.expm1(-window / seconds);
}

export function chancePerHour(seconds: number | null): number | null {
  return chanceWithin(3600, seconds);
}

export function chancePerDay(seconds: number | null): number | null {
  return chanceWithin(86_400, seconds);
}

/** A probability as people read it: "37.5%", or "1 in 2,400" once it is under 1%. */
export function describeChance(chance: number): string {
  return chance >= 0.01 ? `${(chance * 100).toFixed(chance >= 0.995 ? 0 : 1)}%` : `1 in ${formatCount(1 / chance)}`;
}

/** A duration in words: "0.8 s", "12 minutes", "3.2 days", "about 1.2 million years". */
export function describeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never';
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} minutes`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} hours`;
  const days = seconds / 86_400;
  if (days < 730) return `${days.toFixed(1)} days`;
  const years = days / 365.25;
  if (years < 1e3) return `${years.toFixed(0)} years`;
  if (years < 1e6) return `about ${(years / 1e3).toFixed(1)} thousand years`;
  if (years < 1e9) return `about ${(years / 1e6).toFixed(1)} million years`;
  return `about ${(years / 1e9).toFixed(1)} billion years`;
}

export function formatRate(hashesPerSecond: number): string {
  if (hashesPerSecond >= 1e12) return `${(hashesPerSecond / 1e12).toFixed(2)} TH/s`;
  if (hashesPerSecond >= 1e9) return `${(hashesPerSecond / 1e9).toFixed(2)} GH/s`;
  if (hashesPerSecond >= 1e6) return `${(hashesPerSecond / 1e6).toFixed(2)} MH/s`;
  if (hashesPerSecond >= 1e3) return `${(hashesPerSecond / 1e3).toFixed(2)} kH/s`;
  return `${hashesPerSecond.toFixed(0)} H/s`;
}

/** The honest sentence: how long a block takes on average at this rate, and the odds per hour. */
export function describeExpectedTime(network: string, networkDifficulty: number | null, hashesPerSecond: number): string {
  const seconds = expectedSecondsToBlock(networkDifficulty, hashesPerSecond);
  if (seconds === null) return networkDifficulty === null ? 'unknown (no template yet)' : 'unknown (no hash rate measured yet)';
  const where = `at ${formatRate(hashesPerSecond)} on ${network} (difficulty ${formatDifficulty(networkDifficulty!)})`;
  const chance = chancePerHour(seconds)!;
  const odds = `${chance >= 0.01 ? '' : 'a '}${describeChance(chance)} chance per hour`;
  return `one block every ${describeDuration(seconds)} on average ${where}; ${odds}`;
}

export function formatDifficulty(d: number): string {
  if (d === 0) return '0';
  if (d >= 1e6 || d < 1e-3) return d.toExponential(3);
  return Number(d.toPrecision(6)).toString();
}

function formatCount(n: number): string {
  if (n < 1e6) return Math.round(n).toLocaleString('en-US');
  return n.toExponential(2);
}

/** Satoshis as bitcoin, all eight decimals (an amount people compare digit by digit). */
export function formatBtc(sats: number): string {
  return `${(sats / 1e8).toFixed(8)} BTC`;
}
