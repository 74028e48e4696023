// Piano roll of an Arrangement (anywidget ES module, no build step).
//
// Model state (see workbench/ui/pianoroll.py):
//   notes        bytes: float32 x 6 per note = start, end (beats), pitch, velocity, track, row
//   tracks       [{name, label, color, is_drum, count}]
//   drum_rows    [{pitch, name}]           one row per drum sound, top to bottom
//   chords       [{symbol, roman, start, duration, bar, section}]  (section: label starting here)
//   pitch_lo, pitch_hi, bars, beats_per_bar, length_beats, meter, tempo, key_name, title
//   zoom         horizontal zoom factor (synced); autofit: fit the song in the width
//   group        playhead bus id (a Player with the same group moves our playhead)
//   daw_beat, daw_playing, follow_daw    DAW transport position from the sync service
// After each draw the root element gets data-ready="1", data-bars, data-notes, data-tracks and
// data-draws (a counter). One model update changes many traits at once: they are coalesced into
// ONE draw (a microtask after the last change event), not one draw per trait.

const GUTTER = 104;          // left label column (px)
const RULER = 16;            // bar numbers
const CHORD_LANE = 36;       // chord symbols + roman numerals
const SEMITONE = 5;          // px per semitone in the pitched area
const DRUM_ROW = 11;         // px per drum sound
const BASE_PX_PER_BEAT = 22;
const MAX_CANVAS_PX = 30000; // browsers refuse larger canvases
const NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];

function floats(view) {
  if (!view || !view.byteLength) return new Float32Array(0);
  // copy: the DataView may not be 4-byte aligned inside its buffer
  const buf = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
  return new Float32Array(buf);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(label, title, onClick) {
  const b = el("button", "wb-roll-btn", label);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

function render({ model, el: host }) {
  const root = el("div", "wb-roll");
  root.tabIndex = 0;
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Piano roll");
  host.appendChild(root);

  const header = el("div", "wb-roll-header");
  const title = el("div", "wb-roll-title");
  const tools = el("div", "wb-roll-tools");
  const legend = el("div", "wb-roll-legend");
  header.append(title, legend, tools);

  const body = el("div", "wb-roll-body");
  const labels = document.createElement("canvas");
  labels.className = "wb-roll-labels";
  const scroller = el("div", "wb-roll-scroll");
  const inner = el("div", "wb-roll-inner");
  const canvas = document.createElement("canvas");
  canvas.className = "wb-roll-canvas";
  const playhead = el("div", "wb-roll-playhead");
  const dawhead = el("div", "wb-roll-playhead wb-roll-dawhead");
  playhead.style.display = "none";
  dawhead.style.display = "none";
  inner.append(canvas, playhead, dawhead);
  scroller.appendChild(inner);
  body.append(labels, scroller);
  const empty = el("div", "wb-roll-empty", "Nothing to show yet: generate a band.");
  root.append(header, body, empty);

  const hidden = new Set();        // track indexes toggled off in the legend
  let pxPerBeat = BASE_PX_PER_BEAT;
  let playBeat = null;

  const zoomOut = button("−", "Zoom out (-)", () => setZoom(model.get("zoom") / 1.5));
  const zoomIn = button("+", "Zoom in (+)", () => setZoom(model.get("zoom") * 1.5));
  const zoomFit = button("Fit", "Fit the whole song (0)", () => fit());
  tools.append(zoomOut, zoomIn, zoomFit);

  function setZoom(z) {
    z = Math.max(0.1, Math.min(8, z));
    model.set("autofit", false);
    model.set("zoom", z);
    model.save_changes();
  }

  function fitZoom() {
    const len = Math.max(1, model.get("length_beats"));
    const avail = scroller.clientWidth || (root.clientWidth - GUTTER) || 800;
    // fit the song in the width, but never squeeze a beat under 8 px (scroll instead)
    return Math.max(8, Math.min(60, (avail - 6) / len)) / BASE_PX_PER_BEAT;
  }

  function fit() {
    model.set("autofit", true);
    model.set("zoom", fitZoom());
    model.save_changes();
    redraw();
  }

  root.addEventListener("keydown", (ev) => {
    if (ev.target !== root) return;
    if (ev.key === "+" || ev.key === "=") { setZoom(model.get("zoom") * 1.5); ev.preventDefault(); }
    else if (ev.key === "-") { setZoom(model.get("zoom") / 1.5); ev.preventDefault(); }
    else if (ev.key === "0") { fit(); ev.preventDefault(); }
    else if (ev.key === "ArrowRight") { scroller.scrollLeft += 120; ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { scroller.scrollLeft -= 120; ev.preventDefault(); }
  });

  function layout() {
    const lo = model.get("pitch_lo"), hi = model.get("pitch_hi");
    const pitched = hi >= lo ? (hi - lo + 1) * SEMITONE : 0;
    const drums = model.get("drum_rows").length * DRUM_ROW;
    const gap = pitched && drums ? 6 : 0;
    const top = RULER + CHORD_LANE;
    return { lo, hi, top, pitched, drumsTop: top + pitched + gap, drums,
             height: top + pitched + gap + drums + 2 };
  }

  function sizeCanvas(c, w, h) {
    let dpr = window.devicePixelRatio || 1;
    if (w * dpr > MAX_CANVAS_PX) dpr = MAX_CANVAS_PX / w;
    c.width = Math.max(1, Math.floor(w * dpr));
    c.height = Math.max(1, Math.floor(h * dpr));
    c.style.width = `${w}px`;
    c.style.height = `${h}px`;
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  function drawLegend(tracks) {
    legend.replaceChildren();
    tracks.forEach((t, i) => {
      const chip = el("button", "wb-roll-chip");
      chip.type = "button";
      chip.setAttribute("aria-pressed", hidden.has(i) ? "false" : "true");
      chip.title = `${t.label}: ${t.count} notes (click to hide/show)`;
      const sw = el("span", "wb-roll-swatch");
      sw.style.background = t.color;
      chip.append(sw, document.createTextNode(` ${t.name}`));
      if (hidden.has(i)) chip.classList.add("wb-off");
      chip.addEventListener("click", () => {
        if (hidden.has(i)) hidden.delete(i); else hidden.add(i);
        draw();
      });
      legend.appendChild(chip);
    });
  }

  function draw() {
    const notes = floats(model.get("notes"));
    const tracks = model.get("tracks");
    const chords = model.get("chords");
    const drumRows = model.get("drum_rows");
    const bpb = model.get("beats_per_bar") || 4;
    const bars = model.get("bars");
    const len = Math.max(model.get("length_beats"), bars * bpb, 1);
    const L = layout();
    pxPerBeat = BASE_PX_PER_BEAT * (model.get("autofit") ? fitZoom() : model.get("zoom"));
    if (len * pxPerBeat > 200000) pxPerBeat = 200000 / len;
    const width = Math.ceil(len * pxPerBeat) + 2;

    title.textContent = model.get("title");
    drawLegend(tracks);
    const n = notes.length / 6;
    empty.style.display = n || chords.length ? "none" : "block";

    // labels column
    const lctx = sizeCanvas(labels, GUTTER, L.height);
    lctx.clearRect(0, 0, GUTTER, L.height);
    lctx.fillStyle = "#f8fafc";
    lctx.fillRect(0, 0, GUTTER, L.height);
    lctx.font = "10px system-ui, sans-serif";
    lctx.textBaseline = "middle";
    lctx.fillStyle = "#334155";
    lctx.fillText("bar", 6, RULER / 2);
    lctx.fillText("chords", 6, RULER + CHORD_LANE / 2);
    for (let p = L.lo; p <= L.hi; p++) {
      if (p % 12 === 0) {
        const y = L.top + (L.hi - p) * SEMITONE + SEMITONE / 2;
        lctx.fillText(`C${Math.floor(p / 12) - 1}`, GUTTER - 26, y);
      }
    }
    drumRows.forEach((d, i) => {
      const y = L.drumsTop + i * DRUM_ROW + DRUM_ROW / 2;
      lctx.fillText(d.name.length > 16 ? d.name.slice(0, 15) + "…" : d.name, 6, y);
    });

    // roll
    inner.style.width = `${width}px`;
    inner.style.height = `${L.height}px`;
    const ctx = sizeCanvas(canvas, width, L.height);
    ctx.clearRect(0, 0, width, L.height);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, L.height);
    // black-key shading
    for (let p = L.lo; p <= L.hi; p++) {
      if ([1, 3, 6, 8, 10].includes(p % 12)) {
        ctx.fillStyle = "#f1f5f9";
        ctx.fillRect(0, L.top + (L.hi - p) * SEMITONE, width, SEMITONE);
      }
    }
    drumRows.forEach((d, i) => {
      if (i % 2 === 0) {
        ctx.fillStyle = "#f8fafc";
        ctx.fillRect(0, L.drumsTop + i * DRUM_ROW, width, DRUM_ROW);
      }
    });
    // beat and bar grid
    const bottom = L.height;
    for (let b = 0; b <= len + 1e-6; b += 1) {
      const x = Math.round(b * pxPerBeat) + 0.5;
      ctx.strokeStyle = "#e2e8f0";
      ctx.beginPath(); ctx.moveTo(x, L.top); ctx.lineTo(x, bottom); ctx.stroke();
    }
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (let bar = 0; bar <= bars; bar++) {
      const x = Math.round(bar * bpb * pxPerBeat) + 0.5;
      ctx.strokeStyle = "#94a3b8";
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, bottom); ctx.stroke();
      if (bar < bars) {
        ctx.fillStyle = "#475569";
        ctx.fillText(String(bar + 1), x + 3, RULER / 2);
      }
    }
    // section labels of a song, in the ruler beside the bar number
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.fillStyle = "#b45309";
    for (const c of chords) if (c.section) ctx.fillText(c.section, c.start * pxPerBeat + 18, RULER / 2);
    // chord lane
    ctx.fillStyle = "#f8fafc";
    ctx.fillRect(0, RULER, width, CHORD_LANE);
    for (const c of chords) {
      const x = c.start * pxPerBeat, w = c.duration * pxPerBeat;
      ctx.fillStyle = c.symbol === "N.C." ? "#e2e8f0" : "#e0e7ff";
      ctx.fillRect(x + 1, RULER + 2, Math.max(1, w - 2), CHORD_LANE - 4);
      ctx.save();
      ctx.beginPath(); ctx.rect(x + 1, RULER, Math.max(1, w - 2), CHORD_LANE); ctx.clip();
      ctx.fillStyle = "#1e293b";
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText(c.symbol, x + 4, RULER + 11);
      ctx.fillStyle = "#4338ca";
      ctx.font = "11px Georgia, serif";
      ctx.fillText(c.roman || "", x + 4, RULER + 26);
      ctx.restore();
    }
    ctx.strokeStyle = "#cbd5e1";
    ctx.beginPath(); ctx.moveTo(0, L.top + 0.5); ctx.lineTo(width, L.top + 0.5); ctx.stroke();
    if (L.drums) {
      ctx.beginPath(); ctx.moveTo(0, L.drumsTop - 2.5); ctx.lineTo(width, L.drumsTop - 2.5); ctx.stroke();
    }
    // notes
    for (let i = 0; i < n; i++) {
      const o = i * 6;
      const track = notes[o + 4] | 0;
      if (hidden.has(track)) continue;
      const t = tracks[track];
      if (!t) continue;
      const x = notes[o] * pxPerBeat;
      const w = Math.max(2, (notes[o + 1] - notes[o]) * pxPerBeat - 1);
      const row = notes[o + 5];
      let y, h;
      if (t.is_drum) { y = L.drumsTop + row * DRUM_ROW + 1; h = DRUM_ROW - 2; }
      else { y = L.top + (L.hi - row) * SEMITONE; h = SEMITONE; }
      ctx.globalAlpha = 0.45 + 0.55 * (notes[o + 3] / 127);
      ctx.fillStyle = t.color;
      if (t.is_drum) ctx.fillRect(x, y, Math.min(w, Math.max(3, pxPerBeat / 4)), h);
      else ctx.fillRect(x, y, w, h);
    }
    ctx.globalAlpha = 1;

    placeHeads();
    root.dataset.bars = String(bars);
    root.dataset.notes = String(n);
    root.dataset.tracks = tracks.map((t) => t.name).join(",");
    root.dataset.zoom = String(model.get("zoom"));
    root.dataset.draws = String((Number(root.dataset.draws) || 0) + 1);
    root.dataset.ready = "1";
  }

  function placeHead(div, beat) {
    if (beat === null || beat === undefined || Number.isNaN(beat)) { div.style.display = "none"; return; }
    div.style.display = "block";
    div.style.left = `${Math.round(beat * pxPerBeat)}px`;
    div.style.height = `${layout().height}px`;
  }

  function placeHeads() {
    placeHead(playhead, playBeat);
    if (model.get("follow_daw")) {
      const len = Math.max(1, model.get("length_beats"));
      const b = model.get("daw_beat");
      placeHead(dawhead, ((b % len) + len) % len);
      root.dataset.dawBeat = String(b);
    } else {
      placeHead(dawhead, null);
    }
  }

  function follow(beat) {
    // keep the moving playhead in view
    const x = beat * pxPerBeat;
    if (x < scroller.scrollLeft || x > scroller.scrollLeft + scroller.clientWidth - 40) {
      scroller.scrollLeft = Math.max(0, x - 40);
    }
  }

  function onPlayhead(ev) {
    const d = ev.detail || {};
    if (d.group !== model.get("group")) return;
    playBeat = d.playing ? d.beat : null;
    placeHead(playhead, playBeat);
    root.dataset.playing = d.playing ? "1" : "0";
    if (d.playing) follow(d.beat);
  }
  window.addEventListener("workbench-playhead", onPlayhead);

  function onDaw() {
    placeHeads();
    if (model.get("follow_daw") && model.get("daw_playing")) {
      const len = Math.max(1, model.get("length_beats"));
      follow(((model.get("daw_beat") % len) + len) % len);
    }
  }

  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => { pending = false; draw(); });
  };
  const events = ["notes", "tracks", "chords", "drum_rows", "bars", "zoom", "autofit", "length_beats",
                  "pitch_lo", "pitch_hi", "title", "beats_per_bar"];
  for (const name of events) model.on(`change:${name}`, redraw);
  for (const name of ["daw_beat", "daw_playing", "follow_daw"]) model.on(`change:${name}`, onDaw);
  draw();
  // redraw when the page lays us out (autofit needs the real width)
  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    const width = scroller.clientWidth;
    if (model.get("autofit") && Math.abs(width - lastWidth) > 4) { lastWidth = width; draw(); }
  });
  observer.observe(scroller);

  return () => {
    observer.disconnect();
    window.removeEventListener("workbench-playhead", onPlayhead);
    for (const name of events) model.off(`change:${name}`, redraw);
    for (const name of ["daw_beat", "daw_playing", "follow_daw"]) model.off(`change:${name}`, onDaw);
  };
}

export default { render };
