
(() => {
// a column whose head has data-sort="abs" sorts by |value| (a gap of -19 is larger than one of +1);
// a cell's data-value, when present, is the number it sorts by
const value = (td, abs) => { const t = td ? td.textContent.trim().replace(/\u2212/g, "-") : "";
  const v = parseFloat(td && td.dataset.value !== undefined ? td.dataset.value : t);
  return isNaN(v) ? t.toLowerCase() : abs ? Math.abs(v) : v; };
for (const table of document.querySelectorAll("table.sortable")) {
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, col) => {
    th.classList.add("sorts"); th.tabIndex = 0;
    const sort = () => {
      const dir = th.dataset.sorted === "ascending" ? -1 : 1;
      heads.forEach(h => delete h.dataset.sorted);
      th.dataset.sorted = dir === 1 ? "ascending" : "descending";
      const rows = Array.from(table.tBodies[0].rows);
      rows.sort((a, b) => { const abs = th.dataset.sort === "abs";
        const x = value(a.cells[col], abs), y = value(b.cells[col], abs);
        if (typeof x === "number" && typeof y === "number") return dir * (x - y);
        if (typeof x === "number") return -1; if (typeof y === "number") return 1;
        return dir * x.localeCompare(y); });
      for (const r of rows) table.tBodies[0].appendChild(r);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", e => { if (e.key === "Enter") sort(); });
  });
}
for (const input of document.querySelectorAll("input.filter")) {
  const table = document.getElementById(input.dataset.table);
  input.addEventListener("input", () => {
    const q = input.value.trim().toLowerCase();
    for (const r of table.tBodies[0].rows) r.hidden = q !== "" && !r.cells[0].textContent.toLowerCase().includes(q);
  });
}
})();
