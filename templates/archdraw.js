// archdraw gallery: filter on the index, view switching and zoom/pan on model pages. No network.
"use strict";

function setUpFilter() {
  const box = document.getElementById("filter");
  if (!box) return;
  const apply = () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    document.querySelectorAll(".family").forEach((family) => {
      let inFamily = 0;
      family.querySelectorAll(".card").forEach((card) => {
        const text = card.dataset.search || "";
        const match = words.every((w) => text.includes(w));
        card.hidden = !match;
        if (match) inFamily += 1;
      });
      family.hidden = inFamily === 0;
      shown += inFamily;
    });
    document.getElementById("empty").hidden = shown > 0;
    document.body.dataset.shown = String(shown);
  };
  // A filter can be given in the address: index.html#q=recurrent
  const given = new URLSearchParams(location.hash.slice(1)).get("q");
  if (given) box.value = given;
  box.addEventListener("input", apply);
  apply();
}

function setUpViews() {
  const buttons = document.querySelectorAll(".views button");
  buttons.forEach((button) => {
    button.addEventListener("click", () => {
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      document.querySelectorAll("figure.diagram").forEach((figure) => {
        figure.hidden = figure.dataset.view !== button.dataset.view;
      });
    });
  });
}

function setUpZoom(viewport) {
  const img = viewport.querySelector("img");
  if (!img) return;
  let scale = 1, x = 0, y = 0, drag = null;
  const draw = () => { img.style.transform = `translate(${x}px, ${y}px) scale(${scale})`; };
  const fit = () => {
    const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height;
    if (!w || !h) return;
    scale = Math.min(viewport.clientWidth / w, viewport.clientHeight / h, 1);
    x = (viewport.clientWidth - w * scale) / 2; y = 0; draw();
  };
  viewport.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = viewport.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    const factor = Math.exp(-event.deltaY * 0.0015);
    const next = Math.min(Math.max(scale * factor, 0.05), 20);
    x = px - (px - x) * (next / scale); y = py - (py - y) * (next / scale); scale = next; draw();
  }, { passive: false });
  viewport.addEventListener("pointerdown", (event) => {
    drag = { id: event.pointerId, sx: event.clientX - x, sy: event.clientY - y };
    viewport.setPointerCapture(event.pointerId);
  });
  viewport.addEventListener("pointermove", (event) => {
    if (drag && drag.id === event.pointerId) { x = event.clientX - drag.sx; y = event.clientY - drag.sy; draw(); }
  });
  viewport.addEventListener("pointerup", () => { drag = null; });
  viewport.addEventListener("dblclick", fit);
  if (img.complete) fit(); else img.addEventListener("load", fit);
  new ResizeObserver(fit).observe(viewport);
}

// Record, for tests and for people, whether every image on the page loaded.
function countImages() {
  const images = Array.from(document.images);
  const done = () => {
    const loaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
    document.body.dataset.images = `${loaded}/${images.length}`;
  };
  images.forEach((i) => { i.loading = "eager"; if (!i.complete) { i.addEventListener("load", done); i.addEventListener("error", done); } });
  done();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpFilter();
  setUpViews();
  document.querySelectorAll(".viewport").forEach(setUpZoom);
  countImages();
});
