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
