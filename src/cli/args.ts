/** A small argv parser: positionals, `--flag value`, `--flag=value`, boolean switches. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface Parsed {
  positionals: string[];
  flags: Map<string, string>;
  switches: Set<string>;
}

const SWITCHES = new Set(["json", "help"]);

export function parseArgs(argv: string[], valueFlags: ReadonlySet<string>): Parsed {
  const out: Parsed = { positionals: [], flags: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-h") {
      out.switches.add("help");
      continue;
    }
    if (!a.startsWith("--")) {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (SWITCHES.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      out.switches.add(name);
    } else if (valueFlags.has(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      // "--device --json" is a forgotten value, not a device named "--json" (--name=--x still works).
      if (v === undefined || (eq < 0 && v.startsWith("--") && v.length > 2)) throw new UsageError(`--${name} needs a value (write --${name}=VALUE for a value that starts with --)`);
      out.flags.set(name, v);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return out;
}
