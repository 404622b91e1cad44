// The CLI's plain-text tables (stats, budgets).

/** Left-aligned text columns, right-aligned numbers; null shown as `-`. `rows` must not be empty. */
export function formatTable(rows: Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((column) => (row[column] === null ? "-" : String(row[column]))));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]!.length)));
  const numeric = columns.map((column) => rows.every((row) => typeof row[column] === "number"));
  const line = (values: string[]) => values.map((value, i) => (numeric[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}
