// CSV of what a table shows (RFC 4180: CRLF, quotes doubled). Text came from
// callers (user ids, node names, model names, error texts): a cell a
// spreadsheet would read as a formula — starting with =, +, -, @, tab or CR —
// gets a leading apostrophe, so it stays text (OWASP "CSV injection").

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: numbers as they are, null as empty, text neutralised and quoted when needed. */
export function csvCell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per row; `rows` are arrays of cell values. */
export function toCsv(header, rows) {
  return [header, ...rows].map((cells) => cells.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** Saves `text` as a download named `filename` (a UTF-8 BOM first, so spreadsheets read non-ASCII names right). */
export function downloadCsv(filename, text) {
  const url = URL.createObjectURL(new Blob(["\uFEFF", text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
