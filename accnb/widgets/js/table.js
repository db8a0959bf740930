// A table of cells: {t: text}, {pre: text} (shown preformatted) or {img: bytes, type, t}
// (an image from a binary buffer, with t as its tooltip). Text goes in with textContent only.
function render({ model, el }) {
  el.classList.add("accnb-table");
  let urls = [];

  function cell(value) {
    const td = document.createElement("td");
    if (value.img && value.img.byteLength) {
      const img = document.createElement("img");
      const url = URL.createObjectURL(new Blob([value.img], { type: value.type || "" }));
      urls.push(url);
      img.src = url;
      img.alt = value.t || "";
      img.title = value.t || "";
      td.append(img);
    } else if (value.pre !== undefined) {
      const pre = document.createElement("pre");
      pre.textContent = value.pre;
      td.append(pre);
    } else {
      td.textContent = value.t === undefined ? "" : value.t;
      if (value.none) td.classList.add("accnb-none");
    }
    return td;
  }

  function draw() {
    urls.forEach((url) => URL.revokeObjectURL(url));
    urls = [];
    const table = document.createElement("table");
    const head = table.createTHead().insertRow();
    for (const name of model.get("columns")) {
      const th = document.createElement("th");
      th.textContent = name;
      head.append(th);
    }
    const body = table.createTBody();
    for (const values of model.get("rows")) {
      const tr = body.insertRow();
      for (const value of values) tr.append(cell(value));
    }
    el.replaceChildren(table);
  }

  for (const name of ["columns", "rows"]) model.on(`change:${name}`, draw);
  draw();
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}

export default { render };
