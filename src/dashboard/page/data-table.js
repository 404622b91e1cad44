// A sortable table whose cells are built with textContent only: every name and
// error text is someone else's data and is never read as HTML. Each cell keeps
// its exact value in data-value, the same value its CSV export writes.
import { toCsv } from "./csv.js";
import { formatInteger, formatLocalTime, formatMs, formatPercent, formatUsd } from "./format.js";

/**
 * @typedef {object} Column
 * @property {string} key        field of the row (for "share": computed)
 * @property {string} label
 * @property {"name" | "text" | "int" | "usd" | "ms" | "share" | "time"} kind
 * @property {string} [filter]   clicking the value filters the page by this ("user", "node", "model")
 * @property {string} [nullLabel] shown for null
 * @property {string} [csvLabel] header in the CSV (default: label)
 */

const NUMERIC = new Set(["int", "usd", "ms", "share"]);

export class DataTable {
  /**
   * @param {HTMLTableElement} table
   * @param {Column[]} columns
   * @param {{ emptyText: string, onFilter?: (kind: string, value: string | null) => void, sort?: { key: string, descending: boolean } }} options
   */
  constructor(table, columns, options) {
    this.table = table;
    this.columns = columns;
    this.options = options;
    this.sort = options.sort ?? null;
    this.rows = [];
    this.shareOf = 0;
    this.renderHead();
  }

  /** New rows; `shareOf` is the total the share column divides by. */
  setRows(rows, shareOf = 0) {
    this.rows = rows;
    this.shareOf = shareOf;
    this.renderBody();
  }

  /** The exact value of a cell, as data-value and the CSV hold it. */
  valueOf(column, row) {
    if (column.kind === "share") {
      return this.shareOf > 0 ? Math.round((row.total_tokens / this.shareOf) * 10_000) / 100 : 0;
    }
    const value = row[column.key];
    return value === undefined ? null : value;
  }

  /** The rows in the order they are shown. */
  sortedRows() {
    if (!this.sort) return this.rows;
    const column = this.columns.find((c) => c.key === this.sort.key);
    if (!column) return this.rows;
    const direction = this.sort.descending ? -1 : 1;
    return [...this.rows].sort((a, b) => {
      const x = this.valueOf(column, a);
      const y = this.valueOf(column, b);
      // Nulls last whichever the direction.
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      if (typeof x === "number") return (x - y) * direction;
      return String(x).localeCompare(String(y)) * direction;
    });
  }

  /** The table as CSV: its header labels and its rows, in the order shown. */
  toCsv() {
    const header = this.columns.map((column) => column.csvLabel ?? column.label);
    return toCsv(header, this.sortedRows().map((row) => this.columns.map((column) => this.valueOf(column, row))));
  }

  renderHead() {
    const head = this.table.createTHead();
    head.replaceChildren();
    const line = head.insertRow();
    for (const column of this.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      if (NUMERIC.has(column.kind)) th.className = "numeric";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = column.label;
      button.addEventListener("click", () => this.sortBy(column));
      th.append(button);
      line.append(th);
    }
    this.markSorted();
  }

  sortBy(column) {
    const descending = this.sort?.key === column.key ? !this.sort.descending : NUMERIC.has(column.kind) || column.kind === "time";
    this.sort = { key: column.key, descending };
    this.markSorted();
    this.renderBody();
  }

  markSorted() {
    const cells = this.table.tHead?.rows[0]?.cells ?? [];
    this.columns.forEach((column, i) => {
      const sorted = this.sort?.key === column.key;
      cells[i]?.setAttribute("aria-sort", sorted ? (this.sort.descending ? "descending" : "ascending") : "none");
    });
  }

  renderBody() {
    const body = this.table.tBodies[0] ?? this.table.createTBody();
    const rows = this.sortedRows();
    if (rows.length === 0) {
      const cell = document.createElement("td");
      cell.colSpan = this.columns.length;
      cell.className = "empty";
      cell.textContent = this.options.emptyText;
      const line = document.createElement("tr");
      line.append(cell);
      body.replaceChildren(line);
      return;
    }
    body.replaceChildren(...rows.map((row) => this.renderRow(row)));
  }

  renderRow(row) {
    const line = document.createElement("tr");
    for (const column of this.columns) {
      const value = this.valueOf(column, row);
      const cell = document.createElement("td");
      if (value === null) cell.dataset.null = "";
      else cell.dataset.value = String(value);
      cell.className = NUMERIC.has(column.kind) ? "numeric" : column.kind === "time" ? "time" : "text";
      cell.append(this.renderValue(column, value));
      line.append(cell);
    }
    return line;
  }

  renderValue(column, value) {
    switch (column.kind) {
      case "int":
        return formatInteger(value);
      case "usd":
        return formatUsd(value);
      case "ms":
        return value === 0 ? "–" : formatMs(value);
      case "time":
        return formatLocalTime(value);
      case "share":
        return this.renderShare(value);
      default:
        return this.renderText(column, value);
    }
  }

  renderShare(percent) {
    const wrap = document.createElement("span");
    wrap.className = "share";
    const bar = document.createElement("meter");
    bar.min = 0;
    bar.max = 100;
    bar.value = percent;
    const text = document.createElement("span");
    text.textContent = formatPercent(percent / 100);
    wrap.append(bar, text);
    return wrap;
  }

  renderText(column, value) {
    const text = value === null ? (column.nullLabel ?? "") : String(value);
    const onFilter = this.options.onFilter;
    const element = document.createElement(column.filter && onFilter ? "button" : "span");
    element.textContent = text;
    // A title is an attribute, set as text: long values (errors) can be read in full on hover.
    element.title = column.filter ? `Show only ${column.filter} ${text}` : text;
    if (value === null) element.classList.add("null");
    if (column.kind === "text") element.classList.add("long-text");
    if (column.filter && onFilter) {
      element.type = "button";
      element.classList.add("cell-link");
      element.addEventListener("click", () => onFilter(column.filter, value));
    }
    return element;
  }
}
