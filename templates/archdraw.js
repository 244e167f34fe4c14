// archdraw gallery: the index's filter; on a model page, views, and zoom and pan of the diagram
// by wheel, pinch, keys, buttons and drag. No network and no dependency: it works from file:// too.
"use strict";

// -- the index -------------------------------------------------------------------------------

// The filter in the address: index.html#q=recurrent%20skip. A word matches a card whose name,
// family, summary or badges hold it; "is:skip" matches only the cards with that badge.
function queryInAddress() {
  return new URLSearchParams(location.hash.slice(1)).get("q") || "";
}

function setUpFilter() {
  const box = document.getElementById("filter");
  if (!box) return;
  const status = document.getElementById("count");
  const empty = document.getElementById("empty");
  const families = Array.from(document.querySelectorAll(".family"));
  const total = document.querySelectorAll(".card").length;
  const features = Array.from(document.querySelectorAll("[data-feature]"));
  const words = () => box.value.toLowerCase().split(/\s+/).filter(Boolean);
  const apply = () => {
    const wanted = words();
    let shown = 0;
    families.forEach((family) => {
      let inFamily = 0;
      family.querySelectorAll(".card").forEach((card) => {
        const text = card.dataset.search || "";
        const badges = (card.dataset.badges || "").split(" ").filter(Boolean);
        const has = (w) => (w.startsWith("is:") ? w === "is:" || badges.includes(w.slice(3)) : text.includes(w));
        const match = wanted.every(has);
        card.hidden = !match;
        if (match) inFamily += 1;
      });
      family.hidden = inFamily === 0;
      shown += inFamily;
    });
    empty.hidden = shown > 0;
    status.textContent = wanted.length ? `${shown} of ${total} models match` : `${total} models`;
    features.forEach((b) => b.setAttribute("aria-pressed", String(wanted.includes(b.dataset.feature))));
  };
  // What is typed goes into the address (without a new history entry), so it can be shared.
  const remember = () => {
    const q = box.value.trim();
    const url = location.href.split("#")[0] + (q ? `#q=${encodeURIComponent(q)}` : "");
    try {
      history.replaceState(history.state, "", url);
    } catch (error) {
      // Some browsers refuse to change a file:// address; the filter works all the same.
    }
  };
  box.addEventListener("input", () => { apply(); remember(); });
  window.addEventListener("hashchange", () => { box.value = queryInAddress(); apply(); });
  features.forEach((button) => {
    button.addEventListener("click", () => {
      const key = button.dataset.feature;
      const now = words();
      box.value = (now.includes(key) ? now.filter((w) => w !== key) : [...now, key]).join(" ");
      apply();
      remember();
    });
  });
  const bar = document.querySelector(".features");
  if (bar) bar.hidden = false;
  // "/" goes to the filter, as on many sites.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    event.preventDefault();
    box.focus();
  });
  box.value = queryInAddress();
  apply();
}

// -- a model page ----------------------------------------------------------------------------

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

// Fitting a view whole below this scale draws its 14 px text under 3.5 px: such a view (a deep
// model's every layer) opens fitted to its width instead, and scrolls.
const READABLE = 0.25;
const MAX_SCALE = 8;
const MAX_PIXELS = 32000; // the longest side a zoomed diagram may have
const STEP = 1.25; // one press of + or −

function setUpZoom(figure) {
  const viewport = figure.querySelector(".viewport");
  const img = viewport && viewport.querySelector("img");
  if (!img) return;
  const tools = figure.querySelector(".tools");
  const level = figure.querySelector(".level");
  const help = figure.querySelector(".help");
  const touch = matchMedia("(pointer: coarse)");
  let scale = 1, low = 0.05, high = MAX_SCALE, fitted = false, mode = "whole";
  viewport.classList.add("zoomable");

  const clamp = (s) => Math.min(Math.max(s, low), high);
  const draw = () => {
    img.style.width = `${img.naturalWidth * scale}px`;
    img.style.height = `${img.naturalHeight * scale}px`;
    if (level) level.textContent = `${Math.round(scale * 100)}%`;
  };
  const describe = () => {
    if (!help) return;
    help.textContent = touch.matches
      ? "pinch to zoom; two fingers move the diagram, one finger scrolls the page; double-tap fits"
      : `${mode === "width" ? "the wheel scrolls; Ctrl+wheel" : "wheel"} or + − zoom; drag or arrow keys move it; 0 or double-click fits`;
  };
  // Zoom to `next`, keeping the point of the diagram under (x, y) on the screen where it is.
  const zoomAt = (next, x, y, from = null) => {
    const anchor = from || (() => {
      const box = img.getBoundingClientRect();
      return { x: (x - box.left) / scale, y: (y - box.top) / scale };
    })();
    scale = clamp(next);
    fitted = false;
    draw();
    const box = img.getBoundingClientRect();
    viewport.scrollLeft += box.left + anchor.x * scale - x;
    viewport.scrollTop += box.top + anchor.y * scale - y;
  };
  const middle = () => {
    const box = viewport.getBoundingClientRect();
    return [box.left + viewport.clientWidth / 2, box.top + viewport.clientHeight / 2];
  };
  const zoomBy = (factor) => zoomAt(scale * factor, ...middle());
  const fit = () => {
    const w = img.naturalWidth, h = img.naturalHeight;
    // The box is never taller than the diagram at its own size (a small one leaves no gap).
    if (h) viewport.style.maxHeight = `${Math.ceil(h) + viewport.offsetHeight - viewport.clientHeight + 1}px`;
    const cw = viewport.clientWidth - 1, ch = viewport.clientHeight - 1;
    if (!w || !h || cw <= 0 || ch <= 0) return;
    const whole = Math.min(cw / w, ch / h, 1), across = Math.min(cw / w, 1);
    mode = whole < READABLE && across >= 2 * whole ? "width" : "whole";
    scale = mode === "width" ? across : whole;
    low = Math.min(whole, 1);
    high = Math.max(1, Math.min(MAX_SCALE, MAX_PIXELS / Math.max(w, h)), scale);
    fitted = true;
    viewport.dataset.fit = mode;
    draw();
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
    describe();
  };

  viewport.addEventListener("wheel", (event) => {
    const zoom = event.ctrlKey || event.metaKey || (mode === "whole" && Math.abs(event.deltaY) >= Math.abs(event.deltaX));
    if (!zoom) return; // the browser scrolls: a tall view, or a sideways swipe
    event.preventDefault();
    const unit = event.deltaMode === 1 ? 40 : event.deltaMode === 2 ? viewport.clientHeight : 1;
    const delta = Math.max(-300, Math.min(300, event.deltaY * unit));
    // A touchpad's pinch arrives as small Ctrl+wheel steps: they count more.
    const rate = event.ctrlKey && Math.abs(delta) < 50 ? 0.01 : 0.0015;
    zoomAt(scale * Math.exp(-delta * rate), event.clientX, event.clientY);
  }, { passive: false });

  // A mouse or pen drags the diagram; a finger is left to the browser (it scrolls the page).
  let drag = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "touch" || event.button !== 0) return;
    drag = { id: event.pointerId, x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
    viewport.setPointerCapture(event.pointerId);
    viewport.classList.add("dragging");
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!drag || drag.id !== event.pointerId) return;
    viewport.scrollLeft = drag.left - (event.clientX - drag.x);
    viewport.scrollTop = drag.top - (event.clientY - drag.y);
  });
  const drop = () => { drag = null; viewport.classList.remove("dragging"); };
  viewport.addEventListener("pointerup", drop);
  viewport.addEventListener("pointercancel", drop);
  viewport.addEventListener("dblclick", fit);

  // Two fingers zoom and move the diagram: the point between them stays under them.
  let pinch = null;
  const between = (touches) => {
    const [a, b] = [touches[0], touches[1]];
    return { d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1, x: (a.clientX + b.clientX) / 2, y: (a.clientY + b.clientY) / 2 };
  };
  viewport.addEventListener("touchstart", (event) => {
    if (event.touches.length !== 2) { pinch = null; return; }
    const at = between(event.touches), box = img.getBoundingClientRect();
    pinch = { d: at.d, scale, anchor: { x: (at.x - box.left) / scale, y: (at.y - box.top) / scale } };
  }, { passive: true });
  viewport.addEventListener("touchmove", (event) => {
    if (!pinch || event.touches.length !== 2) return;
    if (!event.cancelable) { pinch = null; return; } // the page is scrolling already: leave it
    event.preventDefault();
    const at = between(event.touches);
    zoomAt(pinch.scale * (at.d / pinch.d), at.x, at.y, pinch.anchor);
  }, { passive: false });
  const lift = (event) => { if (event.touches.length < 2) pinch = null; };
  viewport.addEventListener("touchend", lift);
  viewport.addEventListener("touchcancel", lift);

  viewport.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return; // the browser's own shortcuts
    const far = event.shiftKey ? 0.5 : 0.1;
    const across = Math.max(40, viewport.clientWidth * far), down = Math.max(40, viewport.clientHeight * far);
    switch (event.key) {
      case "+": case "=": zoomBy(STEP); break;
      case "-": case "_": zoomBy(1 / STEP); break;
      case "0": fit(); break;
      case "1": zoomAt(1, ...middle()); break;
      case "ArrowLeft": viewport.scrollLeft -= across; break;
      case "ArrowRight": viewport.scrollLeft += across; break;
      case "ArrowUp": viewport.scrollTop -= down; break;
      case "ArrowDown": viewport.scrollTop += down; break;
      default: return;
    }
    event.preventDefault();
  });

  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("[data-zoom]") : null;
      if (!button) return;
      const what = button.dataset.zoom;
      if (what === "in") zoomBy(STEP);
      else if (what === "out") zoomBy(1 / STEP);
      else if (what === "actual") zoomAt(1, ...middle());
      else fit();
    });
  }

  // Fit when the picture arrives (again when the colour scheme swaps it) and when the box
  // changes size (a view shown for the first time, a turned phone), unless the reader zoomed.
  let seen = "";
  const refit = () => {
    const size = `${viewport.offsetWidth}x${viewport.offsetHeight}`;
    if (size === seen) return;
    seen = size;
    if (fitted || !img.style.width) fit();
  };
  img.addEventListener("load", () => { if (fitted || !img.style.width) fit(); else draw(); });
  if (img.complete && img.naturalWidth) fit();
  new ResizeObserver(refit).observe(viewport);
  touch.addEventListener("change", describe);
  describe();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpFilter();
  setUpViews();
  document.querySelectorAll("figure.diagram").forEach(setUpZoom);
});
