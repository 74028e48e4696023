// Audio player for a rendered Arrangement (anywidget ES module, no build step).
//
// The kernel streams the audio as it renders (workbench/ui/player.py): each block is a complete
// little Ogg Vorbis file sent as a custom message {type: "block", version, index, start, frames,
// sample_rate} with the bytes as a buffer. Blocks are decoded as they come and played back to
// back with Web Audio, each source started at its exact time, so Play works as soon as the first
// block is here. Model state:
//   version    bumps on every new render (drops the blocks of the old one)
//   blocks     how many blocks the kernel has: a view that missed some asks for them ("want")
//   complete   the kernel rendered them all; duration: seconds of audio (song + ring-out)
//   rendering, progress 0..1, status text; tempo, length_beats (seconds -> beats for the playhead)
//   loop       loop playback (synced, so Python can read it)
//   group      playhead bus id: PianoRolls with the same group draw our playhead
//   parts, export_status   the downloadable files (mix "band" and one per track), WAV or FLAC
// The AudioContext is created and resumed inside the click handler (browsers only start audio
// from a user gesture); blocks are decoded in an OfflineAudioContext, which needs none.
// Root element markers: data-audio="none"|"rendering"|"playable"|"ready" (playable: Play
// sounds now; ready: every block is here), data-playing="1"|"0", data-export="working"|"done"|
// "error" with data-last-file; data-version (the render shown) and data-bytes (compressed audio
// received for it), for tests and the benchmark.

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// One playback context per sample rate: made at the blocks' rate, nothing is resampled per block
// (which could click at the joins); the browser resamples the whole output once.
const contexts = new Map();
function playContext(rate) {
  if (!contexts.has(rate)) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    let ctx;
    try { ctx = new Ctx({ sampleRate: rate }); } catch (e) { ctx = new Ctx(); }
    contexts.set(rate, ctx);
  }
  return contexts.get(rate);
}
const decoders = new Map();
function decoder(rate) {
  if (!decoders.has(rate)) {
    decoders.set(rate, new OfflineAudioContext({ numberOfChannels: 2, length: 1, sampleRate: rate }));
  }
  return decoders.get(rate);
}

function fmt(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function copyBytes(view) {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
}

const LEAD = 0.03;      // seconds between Play and the first sample: time to start the sources
const HORIZON = 2.0;    // schedule sources this far ahead

function render({ model, el: host }) {
  const root = el("div", "wb-player");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Audio player");
  host.appendChild(root);

  const play = el("button", "wb-player-btn wb-play", "▶ Play");
  play.type = "button";
  play.title = "Play (space when focused)";
  const stop = el("button", "wb-player-btn", "■ Stop");
  stop.type = "button";
  const loopLabel = el("label", "wb-player-loop");
  const loop = document.createElement("input");
  loop.type = "checkbox";
  loopLabel.append(loop, document.createTextNode(" Loop"));
  const time = el("span", "wb-player-time", "0:00 / 0:00");
  time.setAttribute("aria-label", "Position / length");
  const progressWrap = el("div", "wb-player-progress");
  const bar = el("div", "wb-player-bar");
  progressWrap.appendChild(bar);
  progressWrap.setAttribute("role", "progressbar");
  progressWrap.setAttribute("aria-valuemin", "0");
  progressWrap.setAttribute("aria-valuemax", "100");
  progressWrap.setAttribute("aria-label", "Audio rendering");
  const status = el("span", "wb-player-status");
  status.setAttribute("aria-live", "polite");

  // audio files: the mix ("band") and one per track, as WAV or FLAC
  const files = el("span", "wb-player-files");
  files.setAttribute("role", "group");
  files.setAttribute("aria-label", "Download audio files");
  const format = document.createElement("select");
  format.className = "wb-player-format";
  format.setAttribute("aria-label", "Audio file format");
  for (const f of ["wav", "flac"]) {
    const o = document.createElement("option");
    o.value = f;
    o.textContent = f.toUpperCase();
    format.appendChild(o);
  }
  const partButtons = el("span", "wb-player-parts");
  const exportStatus = el("span", "wb-player-export-status");
  exportStatus.setAttribute("aria-live", "polite");
  const filesLabel = el("span", "wb-player-files-label", "⤓ Audio files");
  filesLabel.style.margin = "0 6px 0 12px";
  format.style.marginRight = "6px";
  exportStatus.style.marginLeft = "8px";
  files.append(filesLabel, format, partButtons, exportStatus);
  root.append(play, stop, loopLabel, time, progressWrap, status, files);

  // ---- blocks of the current version ------------------------------------------------------
  let blocks = [];          // index -> {start, frames, rate, buffer}
  let decodedCount = 0;     // contiguous decoded blocks from index 0
  let received = new Set();
  let version = model.get("version");
  root.dataset.version = String(version);
  root.dataset.bytes = "0";
  const rate = () => (blocks[0] ? blocks[0].rate : model.get("sample_rate"));
  const songSeconds = () => (model.get("length_beats") * 60) / Math.max(1, model.get("tempo"));
  const totalSeconds = () => (model.get("loop") ? songSeconds() : model.get("duration"));

  // ---- playback ---------------------------------------------------------------------------
  let playing = false;
  let t0 = 0;               // context time of song time 0 (first loop round)
  let sources = new Map();  // "round:index" -> AudioBufferSourceNode
  let raf = 0;
  let pumpTimer = 0;
  let renderTimer = 0;

  function emit(beat, on) {
    window.dispatchEvent(new CustomEvent("workbench-playhead", {
      detail: { group: model.get("group"), beat, playing: on },
    }));
  }

  function setPlaying(on) {
    root.dataset.playing = on ? "1" : "0";
    play.textContent = on ? "❚❚ Playing" : "▶ Play";
    play.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function silence() {
    for (const src of sources.values()) {
      src.onended = null;
      try { src.stop(); } catch (e) { /* not started */ }
      src.disconnect();
    }
    sources = new Map();
  }

  function stopPlayback() {
    silence();
    playing = false;
    cancelAnimationFrame(raf);
    clearInterval(pumpTimer);
    setPlaying(false);
    emit(0, false);
    time.textContent = `0:00 / ${fmt(totalSeconds())}`;
  }

  // Start every decoded block that sounds between now and HORIZON, at its exact time.
  function pump() {
    if (!playing) return;
    const ctx = playContext(rate());
    const now = ctx.currentTime;
    const looping = !!model.get("loop");
    const loopLen = songSeconds();
    const first = looping && loopLen > 0 ? Math.max(0, Math.floor((now - t0) / loopLen)) : 0;
    const rounds = looping && loopLen > 0 ? [first, first + 1] : [0];
    for (const r of rounds) {
      const base = t0 + r * loopLen;
      blocks.forEach((b, i) => {
        if (!b || !b.buffer) return;
        const key = `${r}:${i}`;
        if (sources.has(key)) return;
        const s = base + b.start / b.rate;
        let e = s + b.frames / b.rate;
        if (looping) e = Math.min(e, base + loopLen);
        if (e <= s || e <= now || s > now + HORIZON) return;
        const src = ctx.createBufferSource();
        src.buffer = b.buffer;
        src.connect(ctx.destination);
        if (s >= now) src.start(s, 0, e - s);
        else src.start(now, now - s, e - now);     // arrived late: join in at the right place
        src.onended = () => { src.disconnect(); sources.delete(key); };
        sources.set(key, src);
      });
    }
  }

  function tick() {
    if (!playing) return;
    const ctx = playContext(rate());
    let t = ctx.currentTime - t0;
    if (model.get("loop")) {
      const loopLen = songSeconds();
      t = loopLen ? t % loopLen : t;
    } else if (model.get("complete") && t >= model.get("duration")) {
      stopPlayback();
      return;
    }
    emit((t * model.get("tempo")) / 60, true);
    time.textContent = `${fmt(Math.min(t, totalSeconds()))} / ${fmt(totalSeconds())}`;
    raf = requestAnimationFrame(tick);
  }

  function startAt(position) {
    const ctx = playContext(rate());
    silence();
    t0 = ctx.currentTime + LEAD - position;
    playing = true;
    pump();
    clearInterval(pumpTimer);
    pumpTimer = setInterval(pump, 250);
    setPlaying(true);
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(tick);
  }

  async function onPlay() {
    // Create/resume the AudioContext inside the click: browsers require a user gesture.
    const ctx = playContext(rate());
    if (ctx.state === "suspended") await ctx.resume();
    if (playing) { stopPlayback(); return; }
    if (!blocks[0] || !blocks[0].buffer) {
      status.textContent = "No audio yet: generate first.";
      return;
    }
    startAt(0);
  }

  // ---- receiving blocks -------------------------------------------------------------------
  function showState() {
    const rendering = model.get("rendering");
    let state = "none";
    if (decodedCount > 0) {
      state = model.get("complete") && decodedCount >= model.get("blocks") ? "ready" : "playable";
    } else if (rendering || model.get("blocks") > 0) {
      state = "rendering";
    }
    root.dataset.audio = state;
    play.disabled = decodedCount === 0;
    if (rendering) {
      // only show progress for renders longer than half a second; the timer starts when the
      // render starts (progress updates must not restart it, or it would never fire)
      if (!renderTimer) {
        renderTimer = setTimeout(() => {
          progressWrap.classList.add("wb-visible");
          root.dataset.progress = "shown";
        }, 500);
      }
    } else {
      clearTimeout(renderTimer);
      renderTimer = 0;
      progressWrap.classList.remove("wb-visible");
      delete root.dataset.progress;
    }
    const p = Math.round(100 * model.get("progress"));
    bar.style.width = `${p}%`;
    progressWrap.setAttribute("aria-valuenow", String(p));
    status.textContent = model.get("status");
  }

  function askForMissing() {
    // blocks sent before this view existed (or lost) are sent again on request
    let have = 0;
    while (received.has(have)) have += 1;
    if (model.get("blocks") > have) model.send({ type: "want", version, have });
  }

  function onBlock(msg, buffers) {
    if (msg.version !== version || received.has(msg.index) || !buffers || !buffers.length) return;
    received.add(msg.index);
    root.dataset.bytes = String(Number(root.dataset.bytes || 0) + buffers[0].byteLength);
    const entry = { start: msg.start, frames: msg.frames, rate: msg.sample_rate, buffer: null };
    blocks[msg.index] = entry;
    const v = version;
    decoder(msg.sample_rate).decodeAudioData(copyBytes(buffers[0])).then((buffer) => {
      if (v !== version) return;
      entry.buffer = buffer;
      while (blocks[decodedCount] && blocks[decodedCount].buffer) decodedCount += 1;
      showState();
      pump();
    }, () => {
      if (v !== version) return;
      received.delete(msg.index);
      status.textContent = "This audio could not be decoded by the browser.";
    });
  }

  function onVersion() {
    if (model.get("version") === version && blocks.length) return;
    stopPlayback();
    version = model.get("version");
    root.dataset.version = String(version);
    root.dataset.bytes = "0";
    blocks = [];
    received = new Set();
    decodedCount = 0;
    time.textContent = `0:00 / ${fmt(totalSeconds())}`;
    showParts();
    showState();
  }

  // ---- audio files ------------------------------------------------------------------------
  function showParts() {
    partButtons.replaceChildren();
    const parts = model.get("parts");
    for (const part of [...parts.filter((p) => p === "band"), ...parts.filter((p) => p !== "band")]) {
      const b = el("button", "wb-player-btn wb-player-part", part === "band" ? "mix" : part);
      b.type = "button";
      b.dataset.part = part;
      b.title = part === "band" ? "Download the mix" : `Download the ${part} stem`;
      b.setAttribute("aria-label", b.title);
      b.addEventListener("click", () => {
        root.dataset.export = "working";
        exportStatus.textContent = "Rendering the audio files…";
        model.send({ type: "download", part, format: format.value });
      });
      partButtons.appendChild(b);
    }
    files.style.display = model.get("parts").length ? "" : "none";
  }

  function onFile(msg, buffers) {
    if (msg.type === "file-error") {
      root.dataset.export = "error";
      exportStatus.textContent = msg.message;
      return;
    }
    const url = URL.createObjectURL(new Blob([copyBytes(buffers[0])], { type: msg.mime }));
    const a = document.createElement("a");
    a.href = url;
    a.download = msg.name;
    a.style.display = "none";
    root.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    root.dataset.lastFile = msg.name;
    root.dataset.export = "done";
  }

  model.on("msg:custom", (msg, buffers) => {
    if (msg.type === "block") onBlock(msg, buffers);
    else if (msg.type === "file" || msg.type === "file-error") onFile(msg, buffers);
  });

  play.addEventListener("click", onPlay);
  stop.addEventListener("click", stopPlayback);
  loop.addEventListener("change", () => {
    model.set("loop", loop.checked);
    model.save_changes();
  });
  model.on("change:loop", () => {
    const was = playing ? playContext(rate()).currentTime - t0 : 0;
    loop.checked = !!model.get("loop");
    if (playing) {
      const loopLen = songSeconds();
      startAt(loop.checked && loopLen ? was % loopLen : Math.min(was, songSeconds()));
    }
  });
  root.addEventListener("keydown", (ev) => {
    if (ev.key === " " && ev.target === root) { onPlay(); ev.preventDefault(); }
  });
  root.tabIndex = 0;

  model.on("change:version", onVersion);
  model.on("change:parts", showParts);
  model.on("change:blocks", () => { showState(); askForMissing(); });
  model.on("change:complete", showState);
  model.on("change:rendering", showState);
  model.on("change:progress", showState);
  model.on("change:status", showState);
  model.on("change:duration", () => { if (!playing) time.textContent = `0:00 / ${fmt(totalSeconds())}`; });
  model.on("change:export_status", () => { exportStatus.textContent = model.get("export_status"); });
  loop.checked = !!model.get("loop");
  time.textContent = `0:00 / ${fmt(totalSeconds())}`;
  showParts();
  showState();
  askForMissing();

  return () => {
    stopPlayback();
    clearTimeout(renderTimer);
  };
}

export default { render };
