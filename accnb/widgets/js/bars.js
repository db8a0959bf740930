// Horizontal bars with their labels and counts. A click selects one bar (a click on the only
// selected bar clears), ctrl/cmd/shift+click adds or removes one; the selection is the
// `selected` trait (bar indices), synced back to the kernel.
function render({ model, el }) {
  el.classList.add("accnb-bars");

  function toggle(i, add) {
    const now = model.get("selected");
    let next;
    if (add) next = now.includes(i) ? now.filter((j) => j !== i) : [...now, i].sort((a, b) => a - b);
    else next = now.length === 1 && now[0] === i ? [] : [i];
    model.set("selected", next);
    model.save_changes();
  }

  function draw() {
    const labels = model.get("labels");
    const counts = model.get("counts");
    const selected = new Set(model.get("selected"));
    const top = Math.max(1, ...counts);
    const rows = labels.map((label, i) => {
      const row = document.createElement("div");
      row.className = "accnb-bar" + (selected.has(i) ? " accnb-selected" : "");
      row.dataset.index = String(i);
      row.tabIndex = 0;
      row.setAttribute("role", "button");
      row.setAttribute("aria-pressed", String(selected.has(i)));
      const name = document.createElement("span");
      name.className = "accnb-bar-label";
      name.textContent = label;
      name.title = label;
      const track = document.createElement("span");
      track.className = "accnb-bar-track";
      const fill = document.createElement("span");
      fill.className = "accnb-bar-fill";
      fill.style.width = `${(100 * counts[i]) / top}%`;
      track.append(fill);
      const count = document.createElement("span");
      count.className = "accnb-bar-count";
      count.textContent = String(counts[i]);
      row.append(name, track, count);
      row.addEventListener("click", (e) => toggle(i, e.ctrlKey || e.metaKey || e.shiftKey));
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          toggle(i, e.ctrlKey || e.metaKey || e.shiftKey);
        }
      });
      return row;
    });
    el.classList.toggle("accnb-has-selection", selected.size > 0);
    el.replaceChildren(...rows);
  }

  for (const name of ["labels", "counts", "selected"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
