// The folder graph of src/ against scripts/layers.json: every import (type-only and dynamic ones included) must
// be one the table allows, packages only where the table allows them, the table itself must have no cycle, and
// docs/architecture.md must show the same table. A breach names the file and the import.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const sourceRoot = join(root, "src");

interface LayerTable {
  folders: Record<string, { layer: string; imports: string[] }>;
  packages: Record<string, string[]>;
}

const table = JSON.parse(readFileSync(join(root, "scripts/layers.json"), "utf8")) as LayerTable;

interface ImportEdge {
  file: string;
  specifier: string;
  from: string;
  /** The top-level folder of src/ the import lands in, or undefined for a package. */
  to?: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

function folderOf(path: string): string | undefined {
  const inside = relative(sourceRoot, path);
  if (inside.startsWith("..")) return undefined;
  return inside.split(sep)[0];
}

function importsOf(file: string): ImportEdge[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const from = folderOf(file) ?? "";
  return info.importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith(".")) return { file, specifier, from };
    const to = folderOf(resolve(dirname(file), specifier));
    return { file, specifier, from, ...(to === undefined ? {} : { to }) };
  });
}

/** Strongly connected components of more than one node (Tarjan): each is a cycle. */
function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

const edges = sourceFiles(sourceRoot).flatMap(importsOf);
const where = (edge: ImportEdge) => `${relative(root, edge.file)} imports "${edge.specifier}"`;

test("every folder of src/ is in the layer table, and every folder in the table exists", () => {
  const onDisk = readdirSync(sourceRoot).filter((name) => statSync(join(sourceRoot, name)).isDirectory());
  assert.deepEqual(onDisk.sort(), Object.keys(table.folders).sort());
});

test("the layer table has no cycle, and core/ imports no other folder", () => {
  const graph = new Map(Object.entries(table.folders).map(([name, { imports }]) => [name, new Set(imports)]));
  assert.deepEqual(cyclesOf(graph), []);
  assert.deepEqual(table.folders["core"]?.imports, []);
});

test("every import between folders is one the layer table allows", () => {
  const breaches = edges
    .filter((edge) => edge.to !== undefined && edge.to !== edge.from)
    .filter((edge) => !table.folders[edge.from]?.imports.includes(edge.to!))
    .map((edge) => `${where(edge)}: ${edge.from} may not import ${edge.to}`);
  assert.deepEqual(breaches, []);
});

test("the folder graph of the code has no cycle", () => {
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.to === undefined || edge.to === edge.from) continue;
    if (!graph.has(edge.from)) graph.set(edge.from, new Set());
    graph.get(edge.from)!.add(edge.to);
  }
  assert.deepEqual(cyclesOf(graph), []);
});

test("restricted packages are imported only where the table allows them", () => {
  const breaches = edges
    .filter((edge) => edge.to === undefined && !edge.specifier.startsWith("."))
    .filter((edge) => {
      const allowed = table.packages[edge.specifier];
      return allowed !== undefined && !allowed.includes(edge.from);
    })
    .map((edge) => `${where(edge)}: only ${table.packages[edge.specifier]!.join(", ")} may`);
  assert.deepEqual(breaches, []);
});

test("docs/architecture.md shows the layer table as it is", () => {
  const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
  const rows = new Map<string, string[]>();
  for (const line of doc.split("\n")) {
    const cells = /^\|\s*`([a-z-]+)\/`\s*\|[^|]*\|([^|]*)\|/.exec(line);
    if (!cells) continue;
    const imports = [...(cells[2] ?? "").matchAll(/`([a-z-]+)\/`/g)].map((m) => m[1]!);
    rows.set(cells[1]!, imports.sort());
  }
  const expected = new Map(Object.entries(table.folders).map(([name, { imports }]) => [name, [...imports].sort()]));
  assert.deepEqual(Object.fromEntries(rows), Object.fromEntries(expected));
});

test("core/ has no I/O: besides its own files it imports only zod and node:crypto's random numbers", () => {
  const outside = edges
    .filter((edge) => edge.from === "core" && !edge.specifier.startsWith("./"))
    .filter((edge) => edge.specifier !== "zod" && edge.specifier !== "node:crypto")
    .map(where);
  assert.deepEqual(outside, []);
});

test("the cycle finder finds a cycle, and none where there is none", () => {
  const graph = (pairs: [string, string][]) => {
    const g = new Map<string, Set<string>>();
    for (const [from, to] of pairs) {
      if (!g.has(from)) g.set(from, new Set());
      g.get(from)!.add(to);
      if (!g.has(to)) g.set(to, new Set());
    }
    return g;
  };
  assert.deepEqual(
    cyclesOf(
      graph([
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
        ["c", "d"],
      ]),
    ),
    [["a", "b", "c"]],
  );
  assert.deepEqual(
    cyclesOf(
      graph([
        ["a", "b"],
        ["a", "c"],
        ["b", "c"],
      ]),
    ),
    [],
  );
});
