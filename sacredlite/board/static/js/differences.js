// "Only differences" on the runs table: the columns whose values differ across the listed
// runs, among the shown columns and the config keys.
const MAX_COLUMNS = 50;  // the API's columns-per-query limit

export const cellValue = (row, key, builtin) => (builtin[key] ? row[key] : (row.cols || {})[key]);

// Columns to request: the shown extra columns, then config keys up to the API's limit.
export function requestColumns(extra, configKeys, onlyDiff) {
  if (!onlyDiff) return extra;
  return [...new Set([...extra, ...configKeys])].slice(0, MAX_COLUMNS);
}

// The shown columns that differ (ID always kept), then the config keys that differ.
export function differingColumns(rows, shown, requested, builtin) {
  if (rows.length < 2) return shown;
  const differs = (key) => new Set(rows.map((r) => JSON.stringify(cellValue(r, key, builtin) ?? null))).size > 1;
  const keep = shown.filter((c) => c.key === "id" || differs(c.key));
  const more = requested.filter((k) => !shown.some((c) => c.key === k) && differs(k)).map((key) => ({ key, visible: true, auto: true }));
  return [...keep, ...more];
}
