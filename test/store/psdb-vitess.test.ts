import { describe, expect, test } from "bun:test";
import { cast } from "@planetscale/database";
import { toField, toRow, vitessType } from "../../src/store/psdb-proxy/vitess.ts";

describe("psdb-proxy Vitess encoding", () => {
  test("MySQL type codes + flags map to Vitess type names", () => {
    expect(vitessType(3)).toBe("INT32");
    expect(vitessType(8, 32)).toBe("UINT64");
    expect(vitessType(1)).toBe("INT8");
    expect(vitessType(246)).toBe("DECIMAL");
    expect(vitessType(5)).toBe("FLOAT64");
    expect(vitessType(12)).toBe("DATETIME");
    expect(vitessType(245)).toBe("JSON");
    expect(vitessType(253)).toBe("VARCHAR");
    expect(vitessType(253, 128)).toBe("VARBINARY");
    expect(vitessType(252, 16)).toBe("TEXT");
    expect(vitessType(252, 144)).toBe("BLOB");
    expect(vitessType(254, 256)).toBe("ENUM");
    expect(vitessType(254)).toBe("CHAR");
    expect(vitessType(6)).toBe("NULL");
  });

  test("rows carry byte lengths, -1 for NULL, base64 values the driver decodes", () => {
    const enc = new TextEncoder();
    const row = toRow([enc.encode("로아😀"), null, enc.encode("42"), enc.encode("")]);
    expect(row.lengths).toEqual(["10", "-1", "2", "0"]);
    // Decode the way the driver does: atob -> binary string -> split by lengths.
    const bin = atob(row.values!);
    expect(bin.length).toBe(12);
    const field = toField({ name: "s", type: 253, table: "t", length: 40, flags: 128 }); // utf8mb4_bin text
    expect(cast(field, bin.slice(0, 10))).toBe("로아😀");
    expect(cast(toField({ name: "i", type: 3, table: "t", flags: 0 }), "42")).toBe(42);
    expect(toRow([null])).toEqual({ lengths: ["-1"] });
  });
});
