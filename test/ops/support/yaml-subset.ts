// A strict reader for the small YAML subset our compose file uses (no YAML package
// is installed): block mappings and sequences, quoted and plain scalars, flow
// sequences of scalars. Anything else throws, so the check never guesses.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  number: number;
  indent: number;
  text: string;
}

export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, i) => {
    if (raw.includes("\t")) throw new Error(`line ${i + 1}: tabs are not supported`);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === "") return;
    lines.push({ number: i + 1, indent: text.length - text.trimStart().length, text: text.trimStart() });
  });
  if (lines.length === 0) return null;
  const [value, next] = parseBlock(lines, 0, lines[0]!.indent);
  if (next !== lines.length) throw new Error(`line ${lines[next]!.number}: unexpected indentation`);
  return value;
}

function parseBlock(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const first = lines[start]!;
  if (first.text === "-" || first.text.startsWith("- ")) {
    const items: YamlValue[] = [];
    let i = start;
    while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith("- ")) {
      const item = lines[i]!.text.slice(2).trim();
      if (splitKey(item)) throw new Error(`line ${lines[i]!.number}: mappings inside sequences are not supported`);
      items.push(parseScalar(item, lines[i]!.number));
      i += 1;
    }
    return [items, i];
  }
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const pair = splitKey(line.text);
    if (!pair) throw new Error(`line ${line.number}: expected "key: value"`);
    const [key, rest] = pair;
    if (key in map) throw new Error(`line ${line.number}: duplicate key ${key}`);
    i += 1;
    if (rest !== "") {
      map[key] = parseScalar(rest, line.number);
    } else if (i < lines.length && lines[i]!.indent > indent) {
      [map[key], i] = parseBlock(lines, i, lines[i]!.indent);
    } else {
      map[key] = null;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Error(`line ${lines[i]!.number}: unexpected indentation`);
  return [map, i];
}

/** `key: rest` or `key:` with the key unquoted; undefined when the text is not a mapping entry. */
function splitKey(text: string): [string, string] | undefined {
  if (text.startsWith('"') || text.startsWith("'") || text.startsWith("[")) {
    const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'):(?: (.*))?$/.exec(text);
    return quoted ? [parseScalar(quoted[1]!, 0) as string, (quoted[2] ?? "").trim()] : undefined;
  }
  const match = /^([^\s:#][^:#]*?):(?: +(.*))?$/.exec(text);
  return match ? [match[1]!, (match[2] ?? "").trim()] : undefined;
}

function parseScalar(text: string, lineNumber: number): YamlValue {
  if (/^[&*!|>{]/.test(text)) throw new Error(`line ${lineNumber}: unsupported YAML construct: ${text}`);
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) throw new Error(`line ${lineNumber}: unterminated flow sequence`);
    const items = text.slice(1, -1).match(/\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,]+?)\s*(?:,|$)/g) ?? [];
    return items.map((item) => parseScalar(item.trim().replace(/,$/, "").trim(), lineNumber));
  }
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${lineNumber}: unterminated string`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  if (text === "null" || text === "~") return null;
  return text;
}

/** Drops a `#` comment (at the start or after a space), unless it sits inside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || line[i - 1] === " ")) {
      return line.slice(0, i);
    }
  }
  return line;
}
