import { errors } from "jose";
import { describe, expect, it } from "vitest";
import { ApiError } from "../errors";
import { errorName } from "./error-name";

describe("errorName", () => {
  it("is a library error's code (its class name is minified in the bundle), else the error's name", () => {
    expect(errorName(new errors.JWTExpired("expired", {}))).toBe("ERR_JWT_EXPIRED");
    expect(errorName(new ApiError("invalid_request", "bad"))).toBe("invalid_request");
    expect(errorName(new TypeError("x"))).toBe("TypeError");
    expect(errorName("a string")).toBe("unknown");
  });
});
