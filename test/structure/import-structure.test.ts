// The folders show the architecture, and arrows point one way: no module of
// src/ or workers/ imports (directly or not) a module that imports it back,
// and no folder a folder that imports it back — except that a subfolder may
// use what its parent folder shares (src/providers/openai → src/providers/types).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The folder of a module, with the top-level leaf modules of src/ (logger, …) as a room of their own. */
function room(file: string): string {
  const folder = dirname(file);
  return folder === "src" ? "src(leaf modules)" : folder;
}

/** Each module → the modules it imports (static, dynamic and type-only relative imports; .js → .ts). */
function moduleEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  // The package entry re-exports every room; it sits on top and nothing imports it.
  const files = [...sourceFiles("src"), ...sourceFiles("workers")].filter((file) => file !== join("src", "index.ts"));
  for (const file of files) {
    const targets = new Set<string>();
    for (const match of readFileSync(join(root, file), "utf8").matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      targets.add(relative(root, normalize(join(root, dirname(file), match[1]!))).replace(/\.js$/, ".ts"));
    }
    edges.set(file, targets);
  }
  return edges;
}

/** Folder → folders it imports; a subfolder's imports of its parent folder are left out. */
function folderEdges(modules: Map<string, Set<string>>): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const [file, targets] of modules) {
    for (const target of targets) {
      const from = room(file);
      const to = room(target);
      if (from === to || from.startsWith(`${to}/`)) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

function cycleThrough(start: string, edges: Map<string, Set<string>>): string[] | undefined {
  const stack: { node: string; path: string[] }[] = [{ node: start, path: [start] }];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    for (const next of edges.get(node) ?? []) {
      if (next === start) return [...path, start];
      if (!seen.has(next)) {
        seen.add(next);
        stack.push({ node: next, path: [...path, next] });
      }
    }
  }
  return undefined;
}

function cycles(edges: Map<string, Set<string>>): string[] {
  return [...edges.keys()].map((node) => cycleThrough(node, edges)).filter(Boolean).map((cycle) => cycle!.join(" -> "));
}

describe("import structure", () => {
  const modules = moduleEdges();

  it("has no module that imports a module importing it back", () => {
    expect(modules.size).toBeGreaterThan(50); // the scan found the sources at all
    expect(cycles(modules)).toEqual([]);
  });

  it("has no folder that imports a folder importing it back", () => {
    const folders = folderEdges(modules);
    expect(folders.size).toBeGreaterThan(5);
    expect(cycles(folders)).toEqual([]);
  });
});
