/**
 * CSV as spreadsheets open it (RFC 4180): CRLF line ends, a UTF-8 byte-order mark so Excel reads
 * names in any script, and quotes doubled. A field is quoted when it holds a comma, a semicolon
 * (the separator where the decimal mark is a comma), a quote or a line break, or starts or ends
 * with a space. Text a spreadsheet would run as a formula is prefixed with an apostrophe: a start
 * of = + - @ (or their full-width forms, which some spreadsheets read alike), tab, CR or LF,
 * spaces or quotes before any of these included.
 */
export function toCsv(header: string[], rows: Array<Array<string | number | boolean | null>>): string {
  const lines = [header, ...rows].map((row) => row.map(field).join(","));
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}

const FORMULA = "=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20\\t";
const FORMULA_START = new RegExp(`^[ "]*[${FORMULA}\\r\\n]`);
/*
 * A spreadsheet set to split on ";" reads this comma-separated file with every ";" as a cell break
 * and every line break as a row break, quoted or not (the quotes of a field that does not open a cell
 * are plain text to it). So a ";", CR or LF inside a value that a formula character follows gets the
 * apostrophe too: "Acme;=1+1" is written "Acme;'=1+1". The JSON form of every export keeps the text.
 */
const FORMULA_AFTER_BREAK = new RegExp(`([;\\r\\n])(?=[ "]*[${FORMULA}])`, "g");
const NEEDS_QUOTES = /[",;\r\n]|^\s|\s$/;

function field(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  let text = value.replace(FORMULA_AFTER_BREAK, "$1'");
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
