"""The controls (ipywidgets): progression with live validation, presets, transpose, repeat; key,
tempo, meter, style; one strip per track; feel; seed; Generate.

Everything the controls mean for the engine is in :func:`workbench.ui.mapping.generate_kwargs`
(pure, unit-tested); this module only lays out widgets and reads/writes their values.
"""

from __future__ import annotations

import functools
import html
import logging
import random

import ipywidgets as w

from . import mapping

log = logging.getLogger(__name__)

DRUM_KITS = [("Standard kit", 0), ("Room kit", 8), ("Power kit", 16), ("Electronic kit", 24),
             ("TR-808 kit", 25), ("Jazz kit", 32), ("Brush kit", 40), ("Orchestra kit", 48)]


def safe(method):
    """UI boundary: a callback never raises into the page; the error is shown inline and logged."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            log.exception("UI callback %s failed", method.__name__)
            report = getattr(self, "report_error", None)
            if report is not None:
                report(mapping.friendly_error(exc))
            return None

    return wrapper


def _label(text, width="72px"):
    return w.HTML(f"<b>{html.escape(text)}</b>", layout=w.Layout(width=width))


class TrackStrip(w.HBox):
    """One track: on/off, GM instrument, level, density."""

    def __init__(self, name: str, settings: dict):
        from workbench.instruments import GM_PROGRAMS

        self.name = name
        self.on = w.Checkbox(value=settings["on"], description=name.capitalize(), indent=False,
                             layout=w.Layout(width="90px"))
        if name == "drums":
            options = [("Style's kit", mapping.STYLE_PROGRAM), *DRUM_KITS]
        else:
            options = [("Style's instrument", mapping.STYLE_PROGRAM)]
            options += [(f"{i + 1:3d} {n}", i) for i, n in enumerate(GM_PROGRAMS)]
        program = settings["program"]
        if program not in [v for _, v in options]:
            options = [*options, (f"program {program}", program)]
        self.program = w.Dropdown(options=options, value=program, description="",
                                  layout=w.Layout(width="230px"))
        self.program.description_allow_html = False

        self.level = w.FloatSlider(value=settings["level"], min=0, max=1, step=0.05,
                                   description="level", continuous_update=False,
                                   readout_format=".2f", layout=w.Layout(width="210px"),
                                   style={"description_width": "42px"})
        self.density = w.FloatSlider(value=settings["density"], min=0, max=1, step=0.05,
                                     description="density", continuous_update=False,
                                     readout_format=".2f", layout=w.Layout(width="220px"),
                                     style={"description_width": "52px"})
        super().__init__([self.on, self.program, self.level, self.density],
                         layout=w.Layout(align_items="center", flex_flow="row wrap"))
        self.add_class("wb-track-strip")
        self.add_class(f"wb-track-{name}")
        label = name.capitalize()
        # accessible names for controls whose visible label is shared or absent (a11y.py)
        self.names = {self.program: f"{label} instrument", self.level: f"{label} level",
                      self.density: f"{label} density"}

    def state(self) -> dict:
        return {"on": self.on.value, "program": self.program.value, "level": self.level.value,
                "density": self.density.value}

    def set_state(self, s: dict) -> None:
        self.on.value = bool(s["on"])
        self.program.value = s["program"]
        self.level.value = float(s["level"])
        self.density.value = float(s["density"])

    def widgets(self):
        return [self.on, self.program, self.level, self.density]


class Controls(w.VBox):
    """All the inputs. ``on_change(cb)``: cb() after any value change (valid or not);
    ``on_generate(cb)``: cb() when Generate is pressed. ``state()`` -> dict for
    :func:`~workbench.ui.mapping.generate_kwargs`."""

    def __init__(self, state: dict | None = None):
        from workbench import METERS, styles

        s = mapping.default_state()
        if state:
            s.update(state)
        self._change_callbacks: list = []
        self._generate_callbacks: list = []
        self._muted = 0
        self.check = mapping.Check(False, "")

        # progression --------------------------------------------------------------------
        self.progression = w.Textarea(value=s["progression"], rows=3, continuous_update=True,
                                      placeholder="| C | Am | F | G |",
                                      layout=w.Layout(width="calc(100% - 12px)"))
        self.progression.add_class("wb-progression")
        self.message = w.HTML("", layout=w.Layout(min_height="22px"))
        self.message.add_class("wb-progression-check")
        self.presets = w.Dropdown(options=[("Presets…", "")] + [(k, k) for k in mapping.PRESETS],
                                  value="", layout=w.Layout(width="240px"))
        self.presets.add_class("wb-presets")
        self.down = w.Button(description="♭ −1", tooltip="Transpose down a semitone",
                             layout=w.Layout(width="64px"))
        self.up = w.Button(description="♯ +1", tooltip="Transpose up a semitone",
                           layout=w.Layout(width="64px"))
        self.down.add_class("wb-transpose-down")
        self.up.add_class("wb-transpose-up")
        self.repeat = w.BoundedIntText(value=s["repeat"], min=mapping.REPEAT_RANGE[0],
                                       max=mapping.REPEAT_RANGE[1], description="repeat ×",
                                       layout=w.Layout(width="130px"),
                                       style={"description_width": "60px"})

        # key, tempo, meter, style --------------------------------------------------------
        self.key = w.Dropdown(options=mapping.key_choices(), value=s["key"], description="Key",
                              layout=w.Layout(width="200px"), style={"description_width": "40px"})
        self.repeat.add_class("wb-repeat")
        self.key.add_class("wb-key")
        self.detected = w.HTML("")
        self.tempo = w.IntSlider(value=int(s["tempo"]), min=mapping.TEMPO_RANGE[0],
                                 max=mapping.TEMPO_RANGE[1], description="Tempo",
                                 continuous_update=False, layout=w.Layout(width="300px"),
                                 style={"description_width": "50px"})
        self.tempo.add_class("wb-tempo")
        self._styles = {st.name: st for st in styles()}
        # a meter no style plays is not offered; the list follows the chosen style
        self._meter_styles = meter_styles(self._styles.values(), METERS)
        if s["style"] not in self._styles:
            s["style"] = next(iter(self._styles))
        if s["meter"] not in self._styles[s["style"]].meters:
            s["style"] = style_for_meter(self._styles, s["meter"], s["style"])
        self.meter = w.Dropdown(options=self._meter_options(s["style"]), value=s["meter"],
                                description="Meter", layout=w.Layout(width="290px"),
                                style={"description_width": "50px"})
        self.meter.add_class("wb-meter")
        self.style = w.Dropdown(options=list(self._styles), value=s["style"], description="Style",
                                layout=w.Layout(width="200px"), style={"description_width": "45px"})
        self.style.add_class("wb-style")
        # the slider follows the style's usual tempo until the user moves it
        self.tempo_follows_style = s["tempo"] == self._styles[s["style"]].default_tempo
        self._setting_tempo = False
        self.style_info = w.HTML("", layout=w.Layout(width="100%"))
        self.style_info.add_class("wb-style-info")

        # tracks ------------------------------------------------------------------------------
        self.strips = {name: TrackStrip(name, s["tracks"][name]) for name in mapping.tracks()}

        # feel and variation ------------------------------------------------------------------
        self.swing_auto = w.Checkbox(value=s["swing"] is None, description="style's own swing",
                                     indent=False, layout=w.Layout(width="160px"))
        self.swing = w.FloatSlider(value=0.0 if s["swing"] is None else s["swing"], min=0,
                                   max=1, step=0.05, description="Swing", continuous_update=False,
                                   disabled=s["swing"] is None, style={"description_width": "70px"})
        self.humanize = w.FloatSlider(value=s["humanize"], min=0, max=1, step=0.05,
                                      description="Humanize", continuous_update=False,
                                      style={"description_width": "70px"})
        self.intensity = w.FloatSlider(value=s["intensity"], min=0, max=1, step=0.05,
                                       description="Intensity", continuous_update=False,
                                       style={"description_width": "70px"})
        self.arc = w.Dropdown(options=[("builds over the choruses", "build"), ("flat", "flat")],
                              value=s.get("arc", "build"), description="Arc",
                              style={"description_width": "70px"})
        self.seed = w.BoundedIntText(value=s["seed"], min=0, max=2**31 - 1, description="Seed",
                                     layout=w.Layout(width="170px"),
                                     style={"description_width": "40px"})
        self.seed.add_class("wb-seed")
        # no icons: Font Awesome would come from a CDN, and the app works offline
        self.variation = w.Button(description="New variation",
                                  tooltip="Same song, another performance (new seed)")
        self.variation.add_class("wb-variation")
        self.count_in = w.Checkbox(value=s["count_in"], description="count-in bar", indent=False)

        # actions ------------------------------------------------------------------------------
        self.generate = w.Button(description="Generate", button_style="primary",
                                 tooltip="Generate the band and send it to the DAW if sync is on "
                                         "(Ctrl+Enter in the chord box)")
        self.generate.add_class("wb-generate")
        self.live = w.Checkbox(value=True, description="live preview", indent=False,
                               tooltip="Update the piano roll on every change",
                               layout=w.Layout(width="120px"))
        self.live.add_class("wb-live")

        # the text box first, then (in the app) Generate: one Tab from the text to Generate
        self.text_box = w.VBox([_label("Chord progression", "100%"), self.progression,
                                self.message])
        self.settings_box = w.VBox([
            w.HBox([self.presets, self.down, self.up, self.repeat],
                   layout=w.Layout(flex_flow="row wrap", align_items="center")),
            w.HBox([self.key, self.detected, self.tempo, self.meter, self.style],
                   layout=w.Layout(flex_flow="row wrap", align_items="center")),
            self.style_info,
        ])
        self.song_box = w.VBox([self.text_box, self.settings_box])
        self.band_box = w.VBox(list(self.strips.values()))
        self.feel_box = w.VBox([
            w.HBox([self.swing, self.swing_auto], layout=w.Layout(align_items="center")),
            self.humanize, self.intensity, self.arc,
            w.HBox([self.seed, self.variation, self.count_in],
                   layout=w.Layout(align_items="center", flex_flow="row wrap")),
        ])
        self.action_box = w.HBox([self.generate, self.live],
                                 layout=w.Layout(align_items="center"))
        super().__init__([self.song_box, self.band_box, self.feel_box, self.action_box])
        self.add_class("wb-controls")

        # wiring ---------------------------------------------------------------------------------
        self.progression.observe(self._on_text, "value")
        self.meter.observe(self._on_text, "value")
        self.presets.observe(self._on_preset, "value")
        self.style.observe(self._on_style, "value")
        self.tempo.observe(self._on_tempo, "value")
        self.swing_auto.observe(self._on_swing_auto, "value")
        self.down.on_click(lambda _b: self._transpose(-1))
        self.up.on_click(lambda _b: self._transpose(+1))
        self.variation.on_click(self._new_variation)
        self.generate.on_click(self._on_generate)
        for widget in self._value_widgets():
            if widget not in (self.progression, self.meter):
                widget.observe(self._on_value, "value")
        # accessible names for controls whose visible label is not linked to them (a11y.py)
        self.names = {self.progression: "Chord progression", self.presets: "Preset progression",
                      self.tempo: "Tempo (bpm)", self.swing: "Swing", self.humanize: "Humanize",
                      self.intensity: "Intensity", self.down: "Transpose down a semitone",
                      self.up: "Transpose up a semitone"}
        for strip in self.strips.values():
            self.names.update(strip.names)
        self._show_style()
        self.validate()

    # public ------------------------------------------------------------------------------------

    def on_change(self, callback) -> None:
        self._change_callbacks.append(callback)

    def on_generate(self, callback) -> None:
        self._generate_callbacks.append(callback)

    def report_error(self, message: str) -> None:
        self.message.value = _message(False, message)

    def state(self) -> dict:
        return {
            "progression": self.progression.value,
            "repeat": self.repeat.value,
            "key": self.key.value,
            "tempo": self.tempo.value,
            "meter": self.meter.value,
            "style": self.style.value,
            "tracks": {name: strip.state() for name, strip in self.strips.items()},
            "swing": None if self.swing_auto.value else self.swing.value,
            "humanize": self.humanize.value,
            "intensity": self.intensity.value,
            "arc": self.arc.value,
            "seed": self.seed.value,
            "count_in": self.count_in.value,
        }

    def set_state(self, state: dict) -> None:
        """Set many values at once (one change notification at the end)."""
        if "meter" in state and state["meter"] not in self._meter_styles:
            raise mapping.ControlError(f"No style plays {state['meter']}: the styles play "
                                       f"{', '.join(self._meter_styles)}")
        self._muted += 1
        try:
            if "style" in state:
                self.style.value = state["style"]
            if "meter" in state and state["meter"] != self.meter.value:
                # a preset in a meter this style doesn't play: a style that plays it
                self.style.value = style_for_meter(self._styles, state["meter"],
                                                   self.style.value)
                self.meter.value = state["meter"]
            for name in ("progression", "repeat", "key", "tempo", "humanize", "intensity",
                         "seed", "count_in"):
                if name in state:
                    getattr(self, name).value = state[name]
            if "swing" in state:
                self.swing_auto.value = state["swing"] is None
                if state["swing"] is not None:
                    self.swing.value = float(state["swing"])
            if state.get("arc") in ("build", "flat"):
                self.arc.value = state["arc"]
            for name, strip_state in state.get("tracks", {}).items():
                if name in self.strips:
                    self.strips[name].set_state({**self.strips[name].state(), **strip_state})
        finally:
            self._muted -= 1
        self.validate()
        self._changed()

    def validate(self) -> mapping.Check:
        """Parse the progression box and show the result under it."""
        self.check = mapping.check_progression(self.progression.value, self.meter.value)
        self.message.value = _message(self.check.ok, self.check.message)
        if self.check.ok:
            prog = self.check.progression
            self.detected.value = (f"<span class='wb-detected'>detected: "
                                   f"{html.escape(prog.key.name)}</span>")
        else:       # don't leave the key of the last good progression on screen
            self.detected.value = "<span class='wb-detected'>detected: –</span>"
        return self.check

    # internals ---------------------------------------------------------------------------------

    def _value_widgets(self):
        out = [self.progression, self.repeat, self.key, self.tempo, self.meter, self.style,
               self.swing, self.swing_auto, self.humanize, self.intensity, self.seed,
               self.count_in]
        for strip in self.strips.values():
            out += strip.widgets()
        out.append(self.arc)
        return out

    def _changed(self):
        if self._muted:
            return
        for cb in self._change_callbacks:
            cb()

    @safe
    def _on_text(self, _change):
        if self._muted:
            return
        self.validate()
        self._changed()

    @safe
    def _on_value(self, _change):
        self._changed()

    @safe
    def _on_preset(self, change):
        name = change["new"]
        if not name:
            return
        text, meter = mapping.PRESETS[name]
        self.set_state({"progression": text, "meter": meter})

    def _meter_options(self, style: str) -> list[tuple[str, str]]:
        """The style's meters, each saying which styles play it."""
        return [(f"{m}: {meter_label(self._meter_styles[m], self._styles)}", m)
                for m in self._styles[style].meters]

    @safe
    def _on_style(self, change):
        info = self._styles[change["new"]]
        self._muted += 1        # one regeneration for the style change, not three
        try:
            meter = self.meter.value if self.meter.value in info.meters else info.meters[0]
            self.meter.options = self._meter_options(info.name)
            self.meter.value = meter
            if self.tempo_follows_style:
                self._set_tempo(info.default_tempo)
        finally:
            self._muted -= 1
        self.validate()
        self._show_style()

    def _set_tempo(self, bpm: float) -> None:
        lo, hi = mapping.TEMPO_RANGE
        self._setting_tempo = True
        try:
            self.tempo.value = int(round(min(max(bpm, lo), hi)))
        finally:
            self._setting_tempo = False

    @safe
    def _on_tempo(self, change):
        if self._setting_tempo:
            return
        # moved by the user: keep it; back at the style's own tempo: follow the style again
        self.tempo_follows_style = change["new"] == self._styles[self.style.value].default_tempo
        self._show_style()

    def _show_style(self):
        info = self._styles.get(self.style.value)
        if info is None:
            self.style_info.value = ""
            return
        meters = ", ".join(info.meters)
        follows = " (the tempo slider follows it until you move it)" \
            if self.tempo_follows_style else ""
        self.style_info.value = (f"<span class='wb-style-desc'><b>{html.escape(info.name)}</b>: "
                                 f"{html.escape(info.description)} <i>(meters: {meters}; "
                                 f"usual tempo {info.default_tempo:g} bpm{follows})</i></span>")

    @safe
    def _on_swing_auto(self, change):
        self.swing.disabled = bool(change["new"])

    @safe
    def _transpose(self, semitones: int):
        check = self.validate()
        if not check.ok:
            self.report_error(f"Fix the progression before transposing: {check.message}")
            return
        text = mapping.transpose_text(self.progression.value, semitones, self.meter.value)
        # a key chosen by hand moves with the chords (one regeneration, not two)
        self.set_state({"progression": text,
                        "key": mapping.transpose_key(self.key.value, semitones)})

    @safe
    def _new_variation(self, _button):
        self.seed.value = random.randint(1, 99999)

    @safe
    def _on_generate(self, _button):
        for cb in self._generate_callbacks:
            cb()


def meter_styles(styles, meters) -> dict[str, list[str]]:
    """Meter -> the styles that play it, for the meters some style plays, in ``meters``' order.

    >>> from workbench import METERS, styles
    >>> meter_styles(styles(), METERS)["12/8"]
    ['ballad', 'shuffle']
    """
    played = {m: [st.name for st in styles if m in st.meters] for m in meters}
    return {m: names for m, names in played.items() if names}


def meter_label(players: list[str], styles) -> str:
    """Which styles play a meter, short: ``"all styles but waltz"`` or ``"pop, ballad"``."""
    others = [name for name in styles if name not in players]
    if len(others) < len(players) and others:
        return "all styles but " + ", ".join(others)
    return "all styles" if not others else ", ".join(players)


def style_for_meter(styles: dict, meter: str, current: str) -> str:
    """``current`` if it plays ``meter``, else the first style that does (else ``current``)."""
    if meter in styles[current].meters:
        return current
    return next((name for name, st in styles.items() if meter in st.meters), current)


def _message(ok: bool, text: str) -> str:
    if ok:
        return f"<span class='wb-ok' style='color:#15803d'>✓ {html.escape(text)}</span>"
    return (f"<span class='wb-error' role='alert' style='color:#b91c1c'>✗ "
            f"{html.escape(text)}</span>")
