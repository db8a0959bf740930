// A grid of image tiles: the bytes arrive as binary buffers (DataView), become Blob URLs,
// and a click on a tile tells the kernel which one. Text goes in with textContent only.
function render({ model, el }) {
  el.classList.add("accnb-tiles");
  let urls = [];
  let pending = false;

  function draw() {
    pending = false;
    urls.forEach((url) => URL.revokeObjectURL(url));
    urls = [];
    const tiles = model.get("tiles");
    const labels = model.get("labels");
    const types = model.get("types");
    const size = model.get("size");
    const active = model.get("active");
    const version = model.get("version");
    el.style.setProperty("--accnb-tile", `${size}px`);
    el.dataset.ready = "";
    const images = [];
    const figures = tiles.map((buffer, i) => {
      const figure = document.createElement("figure");
      figure.className = "accnb-tile" + (i === active ? " accnb-active" : "");
      figure.dataset.index = String(i);
      figure.tabIndex = 0;
      const frame = document.createElement("div");
      frame.className = "accnb-frame";
      if (buffer && buffer.byteLength) {
        const img = document.createElement("img");
        const url = URL.createObjectURL(new Blob([buffer], { type: types[i] || "" }));
        urls.push(url);
        img.alt = labels[i] || "";
        img.src = url;
        images.push(img);
        frame.append(img);
      } else {
        frame.classList.add("accnb-missing");
        frame.textContent = "no image";
      }
      const caption = document.createElement("figcaption");
      caption.textContent = labels[i] || "";
      caption.title = labels[i] || "";
      figure.append(frame, caption);
      const open = () => model.send({ event: "open", index: i });
      figure.addEventListener("click", open);
      figure.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      });
      return figure;
    });
    el.replaceChildren(...figures);
    // data-ready="<version>" once every image of this page has decoded (tests wait on it)
    Promise.all(images.map((img) => img.decode().catch(() => null))).then(() => {
      if (model.get("version") === version) el.dataset.ready = String(version);
    });
  }

  // Python sets tiles, labels, types and version together; draw once for all of them.
  function schedule() {
    if (!pending) {
      pending = true;
      queueMicrotask(draw);
    }
  }
  for (const name of ["tiles", "labels", "types", "size", "active", "version"]) {
    model.on(`change:${name}`, schedule);
  }
  draw();
  return () => urls.forEach((url) => URL.revokeObjectURL(url));
}

export default { render };
