// A grid of image tiles: the bytes arrive as binary buffers (DataView), become data: URLs,
// and a click on a tile tells the kernel which one. Text goes in with textContent only.
//
// data: URLs, not Blob URLs: each URL.createObjectURL is a synchronous call to the browser
// process, and a page of 24 of them held the page flip up by 25-50 ms on 2 busy cores
// (bench/gallery.py); a data: URL is encoded and loaded inside the page.
function dataUrl(buffer, type) {
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let base64;
  if (typeof bytes.toBase64 === "function") {
    base64 = bytes.toBase64();
  } else {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    base64 = btoa(text);
  }
  return `data:${type || "application/octet-stream"};base64,${base64}`;
}

function render({ model, el }) {
  el.classList.add("accnb-tiles");
  let pending = false;

  function draw() {
    pending = false;
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
        img.alt = labels[i] || "";
        img.src = dataUrl(buffer, types[i]);
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
}

export default { render };
