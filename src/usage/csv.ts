/**
 * CSV as spreadsheets open it (RFC 4180): CRLF line ends, every field that needs it quoted, quotes
 * doubled, and a UTF-8 byte-order mark so Excel reads names in any script. Text a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR at the start) is prefixed with an apostrophe.
 */
export function toCsv(header: string[], rows: Array<Array<string | number | boolean | null>>): string {
  const lines = [header, ...rows].map((row) => row.map(field).join(","));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

function field(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
