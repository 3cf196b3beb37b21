// The images a Dockerfile builds on that must come from the image store: each FROM that is not `scratch` or an
// earlier stage, and each `COPY --from=` that names an image. Read before podman runs so a build that cannot
// start names every missing base at once; podman's own error is the fallback for what this reading cannot
// resolve (a variable without a value).

export interface BaseImageUse {
  /** The reference as the build will ask the store for it (build arguments substituted). */
  image: string;
  /** 1-based line of the instruction in the Dockerfile. */
  line: number;
}

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Joins continuation lines and drops comments; honours a leading `# escape=` parser directive. */
function instructionsOf(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const directive = /^#\s*escape\s*=\s*([\\`])\s*$/i.exec(lines[0] ?? "");
  const escape = directive?.[1] ?? "\\";
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith("#")) return;
    if (trimmed === "" && !pending) return;
    const continues = trimmed.endsWith(escape);
    const piece = continues ? trimmed.slice(0, -1) : trimmed;
    pending = pending ? { text: `${pending.text} ${piece}`, line: pending.line } : { text: piece, line: index + 1 };
    if (continues) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text.trim());
    if (match) instructions.push({ keyword: (match[1] ?? "").toUpperCase(), args: match[2] ?? "", line: pending.line });
    pending = undefined;
  });
  return instructions;
}

/** `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`; undefined when a variable has no value. */
function substitute(text: string, values: ReadonlyMap<string, string>): string | undefined {
  let unresolved = false;
  const result = text.replace(
    /\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))/g,
    (_whole, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
      const value = values.get((braced ?? bare) as string);
      if (value !== undefined && value !== "") return value;
      if (fallback !== undefined) return fallback;
      unresolved = true;
      return "";
    },
  );
  return unresolved ? undefined : result;
}

function words(args: string): string[] {
  return args.split(/\s+/).filter((word) => word !== "");
}

/** The images this Dockerfile reads from the store, in order, each once. */
export function baseImagesOf(dockerfile: string, buildArgs: Readonly<Record<string, string>> = {}): BaseImageUse[] {
  const globalArgs = new Map<string, string>();
  const stages = new Set<string>();
  const uses: BaseImageUse[] = [];
  const use = (image: string, line: number) => {
    if (image.toLowerCase() === "scratch" || stages.has(image.toLowerCase())) return;
    if (!uses.some((known) => known.image === image)) uses.push({ image, line });
  };
  let seenFrom = false;
  for (const { keyword, args, line } of instructionsOf(dockerfile)) {
    if (keyword === "ARG" && !seenFrom) {
      // Only ARGs before the first FROM may appear in FROM lines.
      for (const declaration of words(args)) {
        const [name = "", ...rest] = declaration.split("=");
        const value = buildArgs[name] ?? (rest.length > 0 ? rest.join("=").replace(/^"(.*)"$/, "$1") : undefined);
        if (value !== undefined) globalArgs.set(name, value);
      }
    } else if (keyword === "FROM") {
      seenFrom = true;
      const [image, as, stage] = words(args).filter((word) => !word.startsWith("--"));
      const resolved = image === undefined ? undefined : substitute(image, globalArgs);
      if (resolved !== undefined) use(resolved, line);
      if (as?.toLowerCase() === "as" && stage) stages.add(stage.toLowerCase());
    } else if (keyword === "COPY" || keyword === "ADD") {
      const from = words(args).find((word) => word.startsWith("--from="));
      const source = from?.slice("--from=".length);
      if (source && !/^\d+$/.test(source)) use(source, line);
    }
  }
  return uses;
}
