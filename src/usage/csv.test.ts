import { expect, it } from "vitest";
import { toCsv } from "./csv";

it("writes RFC 4180 with a BOM and CRLF, quotes what needs it, and defuses formulas", () => {
  const csv = toCsv(
    ["a", "b"],
    [
      ["plain", 1],
      ['say "hi", twice', null],
      ["=1+1", "-2"],
      ["line\nbreak", true],
      [" padded ", "@sum"],
    ],
  );
  expect(csv).toBe(
    '\uFEFFa,b\r\nplain,1\r\n"say ""hi"", twice",\r\n\'=1+1,\'-2\r\n"line\nbreak",true\r\n" padded ",\'@sum\r\n',
  );
});

it("quotes every field that holds a semicolon, so a ';' spreadsheet cannot split it", () => {
  expect(toCsv(["n"], [["Acme; Inc"], ["a;b"]])).toBe('\uFEFFn\r\n"Acme; Inc"\r\n"a;b"\r\n');
});

it("defuses a formula after spaces or quotes, in full-width form, and after a ';' inside a value", () => {
  const cells = (csv: string) => csv.slice(1, -2).split("\r\n").slice(1);
  expect(
    cells(toCsv(["n"], [["  =1+1"], ['"=1+1"'], ["\uFF1D1+1"], ["\nx"], ["Acme;=1+1"], ['Acme; "@SUM(A1)"'], ["a;b"]])),
  ).toEqual(["'  =1+1", `"'""=1+1"""`, "'\uFF1D1+1", `"'\nx"`, `"Acme;'=1+1"`, `"Acme;' ""@SUM(A1)"""`, `"a;b"`]);
});

it("defuses a formula after a line break inside a value: a ';' spreadsheet starts a row there", () => {
  expect(
    toCsv(
      ["id", "name"],
      [
        ["tnt_1", "Acme\n=1+1;"],
        ["tnt_2", "a\r\n@x"],
      ],
    ),
  ).toBe('\uFEFFid,name\r\ntnt_1,"Acme\n\'=1+1;"\r\ntnt_2,"a\r\n\'@x"\r\n');
});
