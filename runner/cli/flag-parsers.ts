/**
 * Flag parsers that collect problems instead of throwing, so a command reports every bad flag at
 * once (the commands throw one ConfigError with the list).
 */

/** `int(flag, value, min)`: undefined when the flag is absent; a problem when not an integer >= min */
export function integerFlags(problems: string[]): (flag: string, v: string | undefined, min: number) => number | undefined {
  return (flag, v, min) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) problems.push(`${flag}: expected an integer >= ${min}, was '${v}'`);
    return n;
  };
}
