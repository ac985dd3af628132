// One number row of the control page, drawn from the schema: its name, value with unit, range and one-line help
// as text (a phone shows no tooltips); a slider, in log space where the table says the parameter is
// multiplicative; - and + of one table step; a typed value, checked by the show as any request is; and marks:
// held (with its release), and what else moves it (a MIDI knob, the sound). Uses control.js's post, sender,
// format and element.
"use strict";

// Slider positions <-> values. A multiplicative row takes 1000 positions in log space, so zoom's useful
// 0.98..1.05 is a seventh of the track, not a twentieth; its ends are the table's ends exactly.
function scaleOf(p) {
  if (p.scale !== "log") {
    return {min: p.low, max: p.high, step: p.kind === "int" ? 1 : (p.high - p.low) / 1000,
            toValue: Number, toSlider: (v) => v};
  }
  const span = Math.log(p.high / p.low);
  return {min: 0, max: 1000, step: 1, toSlider: (v) => 1000 * Math.log(v / p.low) / span,
          toValue: (x) => (x <= 0 ? p.low : x >= 1000 ? p.high : p.low * Math.exp(span * x / 1000))};
}

// One - or + from `v`: the table's step added (a log row's: multiplied), within the range, to six digits so a
// sum's rounding (1.0049999) never reaches the show.
function nudged(p, v, direction) {
  const next = p.scale === "log" ? v * Math.pow(p.step, direction) : v + direction * p.step;
  const kept = Math.min(p.high, Math.max(p.low, next));
  return p.kind === "int" ? Math.round(kept) : Number(kept.toPrecision(6));
}

// What a typed value is sent as: a number where it reads as one, else the text (a layer's name), for the show
// to check and refuse with its own message.
function typed(text) {
  const trimmed = text.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function slider(p, parent) {
  const scale = scaleOf(p), send = sender("set", p.name);
  const shown = element("output"), error = element("div", {className: "row-error"});
  const input = element("input", {type: "range", name: p.name, min: scale.min, max: scale.max, step: scale.step});
  const control = {held: false, forget: send.forget, value: undefined};  // held: a finger on it
  const value = () => (p.kind === "int" ? Math.round(scale.toValue(input.value)) : scale.toValue(input.value));
  const place = (v) => { control.value = v; shown.textContent = format(v, p); input.value = scale.toSlider(v); };
  input.addEventListener("pointerdown", () => { control.held = true; });
  // A tap that moves nothing fires no change, and a touch may turn into a scroll: the finger is off all the same.
  for (const off of ["pointerup", "pointercancel"]) input.addEventListener(off, () => { control.held = false; });
  input.addEventListener("input", () => { control.value = value(); shown.textContent = format(value(), p); send(value()); });
  input.addEventListener("change", () => { control.held = false; send(value()); });
  const nudge = (label, direction) => {
    const button = element("button", {className: "nudge", textContent: label});
    button.dataset.nudge = `${p.name}${direction > 0 ? "+" : "-"}`;
    button.addEventListener("click", () => {
      if (typeof control.value !== "number") return;
      place(nudged(p, control.value, direction));
      send(control.value);
    });
    return button;
  };
  control.set = (v, frame) => {  // the show's figures: where the slider is left alone, they place it
    if (typeof v !== "number" || control.held || !send.settled(frame)) return false;
    place(v);
    return true;
  };
  control.mark = marks(p, control);
  parent.append(element("div", {className: "row"}, head(p, shown), help(p),
                        element("div", {className: "line"}, nudge("\u2212", -1), input, nudge("+", 1)),
                        typedValue(p, error), control.mark.line, error));
  controls[p.name] = control;
}

function head(p, shown) {
  return element("label", {className: "head"}, element("span", {textContent: p.label}), shown);
}

function help(p) {
  const range = `${format(p.low, p)} to ${format(p.high, p)}${p.scale === "log" ? ", log scale" : ""}`;
  return element("p", {className: "help", textContent: `${p.help} (${range})`});
}

function typedValue(p, error) {
  const field = element("input", {type: "text", name: `typed-${p.name}`, placeholder: "type a value",
                                  inputMode: p.shown ? "text" : "decimal", autocomplete: "off"});
  const form = element("form", {className: "line"}, field, element("button", {textContent: "set"}));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (field.value.trim() !== "") post("set", p.name, typed(field.value), error);
  });
  return form;
}

// Held (an operator set it: the playlist and the sound leave it alone) with its release; driven (a MIDI knob
// or the sound moves it while nobody holds it) with its source. The status says which (`held`, `driven_NAME`).
function marks(p, control) {
  const held = element("span", {className: "mark held", textContent: "held"});
  const release = element("button", {textContent: "release"});
  release.dataset.release = p.name;
  release.addEventListener("click", () => post("command", "release", p.name));
  const driven = element("span", {className: "mark driven"});
  const line = element("div", {className: "line marks"}, held, release, driven);
  const update = (s) => {
    const isHeld = typeof s.held === "string" && s.held.split(" ").includes(p.name);
    const source = s[`driven_${p.name}`];
    held.hidden = release.hidden = !isHeld;
    driven.hidden = !source;
    driven.textContent = source ? `driven by ${source}${isHeld ? " (paused while held)" : ""}` : "";
    line.hidden = !isHeld && !source;
  };
  update({});
  return {line, update};
}
