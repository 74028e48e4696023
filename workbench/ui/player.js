// Audio player for a rendered Arrangement (anywidget ES module, no build step).
//
// Model state (see workbench/ui/player.py):
//   audio      bytes of a WAV file (empty while rendering)
//   version    bumps on every new render (drops the decoded buffer)
//   rendering  true while the kernel renders; progress 0..1; status text
//   tempo, length_beats    to turn seconds into beats for the playhead
//   loop       loop playback (synced, so Python can read it)
//   group      playhead bus id: PianoRolls with the same group draw our playhead
// The AudioContext is created and resumed inside the click handler (browsers only start audio
// from a user gesture). Root element markers: data-audio="ready"|"rendering"|"none",
// data-playing="1"|"0".

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

let sharedContext = null;
function audioContext() {
  if (!sharedContext) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    sharedContext = new Ctx();
  }
  return sharedContext;
}

function fmt(seconds) {
  seconds = Math.max(0, seconds);
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

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
  const progressWrap = el("div", "wb-player-progress");
  const bar = el("div", "wb-player-bar");
  progressWrap.appendChild(bar);
  progressWrap.setAttribute("role", "progressbar");
  progressWrap.setAttribute("aria-valuemin", "0");
  progressWrap.setAttribute("aria-valuemax", "100");
  const status = el("span", "wb-player-status");
  status.setAttribute("aria-live", "polite");
  const wavLink = el("a", "wb-player-wav", "⤓ WAV");
  wavLink.download = "band.wav";
  wavLink.style.display = "none";
  root.append(play, stop, loopLabel, time, progressWrap, wavLink, status);
  let wavUrl = null;

  let buffer = null;          // decoded AudioBuffer for the current version
  let decoding = null;
  let source = null;
  let startedAt = 0;          // ctx time when playback (offset 0) started
  let raf = 0;
  let renderTimer = 0;

  const duration = () => (buffer ? buffer.duration : 0);
  const songSeconds = () => (model.get("length_beats") * 60) / Math.max(1, model.get("tempo"));

  function emit(beat, playing) {
    window.dispatchEvent(new CustomEvent("workbench-playhead", {
      detail: { group: model.get("group"), beat, playing },
    }));
  }

  function setPlaying(on) {
    root.dataset.playing = on ? "1" : "0";
    play.textContent = on ? "❚❚ Playing" : "▶ Play";
    play.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function stopPlayback() {
    if (source) {
      source.onended = null;
      try { source.stop(); } catch (e) { /* already stopped */ }
      source.disconnect();
      source = null;
    }
    cancelAnimationFrame(raf);
    setPlaying(false);
    emit(0, false);
    time.textContent = `0:00 / ${fmt(duration() || songSeconds())}`;
  }

  function tick() {
    if (!source) return;
    const ctx = audioContext();
    let t = ctx.currentTime - startedAt;
    if (model.get("loop")) {
      const loopLen = Math.min(songSeconds(), duration()) || duration();
      t = loopLen ? t % loopLen : t;
    }
    const beat = (t * model.get("tempo")) / 60;
    emit(beat, true);
    time.textContent = `${fmt(t)} / ${fmt(duration())}`;
    raf = requestAnimationFrame(tick);
  }

  async function decode() {
    const view = model.get("audio");
    if (!view || !view.byteLength) return null;
    if (buffer) return buffer;
    if (!decoding) {
      const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
      const version = model.get("version");
      decoding = audioContext().decodeAudioData(bytes).then((b) => {
        if (version === model.get("version")) buffer = b;
        decoding = null;
        return b;
      }, (err) => { decoding = null; throw err; });
    }
    return decoding;
  }

  async function onPlay() {
    // Create/resume the AudioContext inside the click: browsers require a user gesture.
    const ctx = audioContext();
    if (ctx.state === "suspended") await ctx.resume();
    if (source) { stopPlayback(); return; }
    let b;
    try {
      b = await decode();
    } catch (err) {
      status.textContent = "This audio could not be decoded by the browser.";
      return;
    }
    if (!b) { status.textContent = "No audio yet: generate first."; return; }
    source = ctx.createBufferSource();
    source.buffer = b;
    source.loop = !!model.get("loop");
    if (source.loop) {
      source.loopStart = 0;
      source.loopEnd = Math.min(songSeconds(), b.duration) || b.duration;
    }
    source.connect(ctx.destination);
    source.onended = () => { source = null; stopPlayback(); };
    startedAt = ctx.currentTime;
    source.start();
    setPlaying(true);
    raf = requestAnimationFrame(tick);
  }

  play.addEventListener("click", onPlay);
  stop.addEventListener("click", stopPlayback);
  loop.addEventListener("change", () => {
    model.set("loop", loop.checked);
    model.save_changes();
    if (source) {
      source.loop = loop.checked;
      source.loopEnd = Math.min(songSeconds(), duration()) || duration();
    }
  });
  root.addEventListener("keydown", (ev) => {
    if (ev.key === " " && ev.target === root) { onPlay(); ev.preventDefault(); }
  });
  root.tabIndex = 0;

  let wasRendering = false;
  function showRendering() {
    const rendering = model.get("rendering");
    if (rendering) {
      root.dataset.audio = "rendering";
      play.disabled = true;
      // only show progress for renders longer than half a second; the timer starts when the
      // render starts (progress updates must not restart it, or it would never fire)
      if (!wasRendering) {
        clearTimeout(renderTimer);
        renderTimer = setTimeout(() => {
          progressWrap.classList.add("wb-visible");
          root.dataset.progress = "shown";
        }, 500);
      }
    } else {
      clearTimeout(renderTimer);
      progressWrap.classList.remove("wb-visible");
      delete root.dataset.progress;
      const view = model.get("audio");
      const ready = view && view.byteLength > 0;
      root.dataset.audio = ready ? "ready" : "none";
      play.disabled = !ready;
    }
    const p = Math.round(100 * model.get("progress"));
    bar.style.width = `${p}%`;
    progressWrap.setAttribute("aria-valuenow", String(p));
    status.textContent = model.get("status");
    wasRendering = rendering;
  }

  function onAudio() {
    stopPlayback();
    buffer = null;
    decoding = null;
    if (wavUrl) { URL.revokeObjectURL(wavUrl); wavUrl = null; }
    const view = model.get("audio");
    if (view && view.byteLength) {
      const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
      wavUrl = URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
      wavLink.href = wavUrl;
      wavLink.style.display = "";
    } else {
      wavLink.style.display = "none";
    }
    time.textContent = `0:00 / ${fmt(songSeconds())}`;
    showRendering();
  }

  model.on("change:audio", onAudio);
  model.on("change:version", onAudio);
  model.on("change:rendering", showRendering);
  model.on("change:progress", showRendering);
  model.on("change:status", showRendering);
  model.on("change:loop", () => { loop.checked = !!model.get("loop"); });
  loop.checked = !!model.get("loop");
  onAudio();

  return () => {
    stopPlayback();
    clearTimeout(renderTimer);
    if (wavUrl) URL.revokeObjectURL(wavUrl);
  };
}

export default { render };
