/** Tiny `--name value` / `--flag` parser for the benchmark scripts; defaults give the types. */
export type FlagValues = Record<string, number | string | boolean>;

export function parseFlags<T extends FlagValues>(argv: string[], defaults: T, usage: string): T {
  const out: FlagValues = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(usage);
      process.exit(0);
    }
    if (!arg.startsWith("--")) fail(`unexpected argument "${arg}"`, usage);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (!(name in defaults)) fail(`unknown option --${name}`, usage);
    const def = defaults[name];
    if (typeof def === "boolean") {
      out[name] = eq > 0 ? arg.slice(eq + 1) !== "false" : true;
      continue;
    }
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) fail(`--${name} needs a value`, usage);
    if (typeof def === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got "${raw}"`, usage);
      out[name] = n;
    } else out[name] = raw!;
  }
  return out as T;
}

function fail(msg: string, usage: string): never {
  console.error(`${msg}\n\n${usage}`);
  process.exit(2);
}
