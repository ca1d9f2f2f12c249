
(() => {
const D = JSON.parse(document.getElementById("loss-data").textContent);
const slider = document.getElementById("candidate");
function show() {
  const i = +slider.value;
  document.getElementById("a").textContent = D.grid[i].toFixed(2);
  for (const k of ["zero_one", "absolute", "squared"])
    document.getElementById("loss-" + k).textContent = D[k][i].toFixed(3);
}
slider.addEventListener("input", show);
show();
})();
