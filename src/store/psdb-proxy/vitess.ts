// MySQL text-protocol results -> the JSON shapes of the PlanetScale HTTP API
// (fields with Vitess type names; rows as {lengths[], values: base64}, length -1 = NULL).

/** What Bun.SQL reports for a MySQL result column. */
export interface MysqlColumn {
  name: string;
  type: number;
  table: number | string;
  length?: number;
  flags?: number;
}

export interface PsdbField {
  name: string;
  type: string;
  table?: string;
  orgName?: string;
  columnLength?: number;
  charset: number;
  flags?: number;
}

export interface PsdbRow {
  lengths: string[];
  values?: string;
}

const UNSIGNED = 32;
const BINARY = 128;
const ENUM = 256;
const SET = 2048;
export const CHARSET_BINARY = 63;
export const CHARSET_UTF8MB4 = 255;

const INTEGER: Record<number, string> = { 1: "INT8", 2: "INT16", 9: "INT24", 3: "INT32", 8: "INT64" };
const SIMPLE: Record<number, string> = {
  0: "DECIMAL", 246: "DECIMAL", 4: "FLOAT32", 5: "FLOAT64", 6: "NULL", 7: "TIMESTAMP", 10: "DATE",
  11: "TIME", 12: "DATETIME", 13: "YEAR", 16: "BIT", 245: "JSON", 247: "ENUM", 248: "SET", 255: "GEOMETRY",
};

/** Vitess type name for a MySQL protocol type code + column flags. */
export function vitessType(type: number, flags = 0): string {
  const int = INTEGER[type];
  if (int) return flags & UNSIGNED ? `U${int}` : int;
  if (SIMPLE[type]) return SIMPLE[type]!;
  const binary = (flags & BINARY) !== 0;
  if (type === 254) {
    if (flags & ENUM) return "ENUM";
    if (flags & SET) return "SET";
    return binary ? "BINARY" : "CHAR";
  }
  if (type >= 249 && type <= 252) return binary ? "BLOB" : "TEXT";
  if (type === 15 || type === 253) return binary ? "VARBINARY" : "VARCHAR";
  return "VARCHAR";
}

const TEXTUAL = new Set(["CHAR", "BINARY", "VARCHAR", "VARBINARY", "TEXT", "BLOB", "ENUM", "SET", "JSON"]);

export function toField(c: MysqlColumn): PsdbField {
  const type = vitessType(c.type, c.flags);
  return {
    name: c.name,
    type,
    table: typeof c.table === "string" ? c.table : undefined,
    orgName: c.name,
    columnLength: c.length,
    // Bun.SQL does not expose the column's collation, and utf8mb4_bin text carries the same
    // BINARY flag as VARBINARY. So every textual column is declared utf8mb4: the driver decodes
    // it as UTF-8 text. Select HEX(col) when you need raw bytes.
    charset: TEXTUAL.has(type) ? CHARSET_UTF8MB4 : CHARSET_BINARY,
    flags: c.flags,
  };
}

/** One row of raw cells (null = SQL NULL) -> {lengths, values}. Lengths count BYTES. */
export function toRow(cells: readonly (Uint8Array | null)[]): PsdbRow {
  const lengths: string[] = [];
  const parts: Uint8Array[] = [];
  for (const cell of cells) {
    if (cell === null || cell === undefined) {
      lengths.push("-1");
    } else {
      lengths.push(String(cell.byteLength));
      parts.push(cell);
    }
  }
  const values = Buffer.concat(parts).toString("base64");
  return values ? { lengths, values } : { lengths };
}
