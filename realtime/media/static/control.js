// The control page: built from /control/state.json (every row the show is steered by, commands, scenes; a number
// row is drawn by rows.js, the picture by picture.js),
// kept current by /control/events (server-sent figures), steering through POST /control/set and /command.
// Names from the show (scenes, models, figures) are put on the page as text, never as HTML: a scene named
// <img onerror=...> must not run script where the page's address holds the token.
"use strict";
const query = location.search;  // carries the token: any UTF-8, which a header could not (ISO-8859-1 only)
const $ = (id) => document.getElementById(id);
const controls = {};  // parameter name -> {set(value, frame)}
let schema = null, status = {};

function post(kind, name, value, where) {  // where: an element of the row that sent it, to say a refusal there too
  const headers = {"Content-Type": "application/json"};
  const body = JSON.stringify(value === undefined ? {name} : {name, value});
  return fetch(`control/${kind}${query}`, {method: "POST", headers, body})
    .then((r) => r.json().then((answer) => {
      $("error").textContent = r.ok ? "" : answer.error;
      if (where) where.textContent = r.ok ? "" : answer.error;
      return answer;
    }))
    .catch((e) => { $("error").textContent = `the show cannot be reached: ${e.message}`; });
}

// One request in flight per control, and only the newest value waiting behind it: a slider dragged fast sends
// as often as the show answers (about once a frame), in order, and the last position always arrives last.
// `settled(frame)`: nothing is on its way and figures of `frame` already show the last answer. Figures made
// before it (an event already sent when the answer came) would move a slider back to where it was. A refusal
// keeps the last answer's frame; `forget()` drops it (a restarted show counts its frames from 0 again).
function sender(kind, name) {
  let inFlight = false, pending, shownAfter = -1;
  const flush = () => {
    if (inFlight || pending === undefined) return;
    const value = pending;
    pending = undefined;
    inFlight = true;
    post(kind, name, value)
      .then((answer) => { if (answer && typeof answer.frame === "number") shownAfter = answer.frame; })
      .finally(() => { inFlight = false; flush(); });
  };
  const send = (value) => { pending = value; flush(); };
  send.settled = (frame) => !inFlight && pending === undefined &&
    (shownAfter < 0 || (typeof frame === "number" && frame > shownAfter));
  send.forget = () => { shownAfter = -1; };
  return send;
}

function format(value, p) {
  if (typeof value !== "number") return String(value);
  if (p.shown) return p.shown[Math.round(value - p.low)] || "";  // a layer's name for its number
  const text = p.kind === "int" ? String(value) : Number(value.toPrecision(3)).toString();
  return p.unit ? `${text} ${p.unit}` : text;
}

function choices(p, parent) {
  const row = document.createElement("div");
  row.className = "row";
  const label = element("label", {textContent: p.label});
  const group = document.createElement("div");
  group.className = "buttons";
  group.dataset.name = p.name;
  const values = p.kind === "bool" ? [true, false] : p.choices;
  for (const value of values) {
    const button = document.createElement("button");
    button.textContent = String(value);
    button.dataset.value = String(value);
    button.addEventListener("click", () => post("set", p.name, value));
    group.append(button);
  }
  const control = {set: (v) => mark(group, String(v))};
  control.mark = marks(p, control);
  row.append(label, element("p", {className: "help", textContent: p.help}), group, control.mark.line);
  parent.append(row);
  controls[p.name] = control;
}

function mark(group, value) {
  for (const button of group.children) button.classList.toggle("on", button.dataset.value === value);
}

function commandButton(label, name, value) {
  const button = document.createElement("button");
  button.textContent = label;
  button.dataset.command = name;
  button.addEventListener("click", () => post("command", name, typeof value === "function" ? value() : value));
  return button;
}

function draw(p, parent) {
  ((p.kind === "choice" || p.kind === "bool") ? choices : slider)(p, parent);
}

// A row bounded by what the show loaded (its models, a model's layers) is drawn from its names in its own part
// of the page: whole numbers as buttons labelled by the names, others as a slider showing the nearest name.
// Where each model has its own names, it is drawn again when the model changes; with fewer than two: hidden.
function bounded(p, model) {
  const names = (p.per_model ? p.names[(model || 1) - 1] : p.names[0]) || [];
  const part = $(p.bound), drawn = JSON.stringify(names);
  if (part.dataset.drawn === drawn) return;
  part.dataset.drawn = drawn;
  part.replaceChildren();
  delete controls[p.name];
  $(`${p.bound}-part`).hidden = names.length < 2;
  if (names.length < 2) return;
  const row = {...p, high: p.low + names.length - 1, shown: names};
  if (p.kind !== "int") return slider(row, part);
  names.forEach((name, i) => {
    const button = element("button", {textContent: name});
    button.dataset.value = String(p.low + i);
    button.addEventListener("click", () => post("set", p.name, p.low + i));
    part.append(button);
  });
  // The figures name the model (and number it apart): a name stands for its number.
  controls[p.name] = {set: (v) => mark(part, String(typeof v === "string" ? p.low + names.indexOf(v) : v))};
}

function build() {
  for (const p of schema.params) if (p.bound) bounded(p, 1); else draw(p, $("params"));
  const release = commandButton("release held", "release");
  release.id = "release";
  release.hidden = true;  // offered while anything is held, with a playlist or without
  $("commands").append(commandButton("pause", "pause"), commandButton("snapshot", "snapshot"),
                       commandButton("record", "record"), release);
  if (schema.scenes.length) {
    $("scenes-part").hidden = false;
    schema.scenes.forEach((scene, i) => {
      const button = commandButton(scene.name, "scene", i + 1);
      button.dataset.scene = scene.name;
      $("scenes").append(button);
    });
    $("scenes").append(commandButton("next", "next-scene"));
  }
  if (schema.sound.length) {
    $("sound-part").hidden = false;
    for (const name of schema.sound) {
      const row = element("div", {className: "row"});
      const label = element("label", {}, element("span", {textContent: name}),
                            element("output", {id: `sound-${name}`}));
      row.append(label, element("div", {className: "meter"}, element("div", {id: `meter-${name}`})));
      $("sound").append(row);
    }
  }
  $("viewer").href = "./" + query;
  window.picture = picture($("picture"), $("picture-mode"), query);
}

// An element with its properties (textContent for text: never parsed as HTML) and children.
function element(tag, properties, ...children) {
  const made = Object.assign(document.createElement(tag), properties);
  made.append(...children);
  return made;
}

function clock(seconds) {  // 125.4 -> "2:05"
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function show(s) {
  if (typeof s.frame === "number" && s.frame < status.frame) {  // the show restarted: its frames count from 0
    for (const control of Object.values(controls)) if (control.forget) control.forget();
  }
  status = s;
  const fps = s.display_fps !== undefined ? s.display_fps : s.fps;
  const figures = [["shown", `${(fps || 0).toFixed(1)} fps`], ["dreams", s.dream_hz !== undefined ?
                    `${s.dream_hz.toFixed(1)} /s` : "each frame"], ["latency", s.latency_ms !== undefined ?
                    `${Math.round(s.latency_ms)} ms` : "-"], ["scene", s.scene || "-"],
                   ["model", s.model || "-"], ["on", s.provider ? s.provider.replace("ExecutionProvider", "") : "-"]];
  $("figures").replaceChildren(...figures.flatMap(([k, v]) => [element("span", {textContent: k}),
                                                                 element("b", {textContent: v})]));
  $("release").hidden = !s.held;
  $("release").title = s.held ? `give ${s.held} back to the playlist and the sound` : "";
  $("state").textContent = (s.paused ? "paused" : "") + (s.recording ? " recording" : "");
  $("scene-left").textContent = typeof s.scene_left === "number" ? `${s.scene}: ${clock(s.scene_left)} left` : "";
  for (const p of schema.params) if (p.per_model) bounded(p, s.model_number);
  for (const [name, control] of Object.entries(controls)) {
    if (name in s) control.set(s[name], s.frame);
    if (control.mark) control.mark.update(s);
  }
  mark($("commands"), "");
  for (const button of $("commands").children) {
    button.classList.toggle("on", (button.dataset.command === "pause" && !!s.paused) ||
                                  (button.dataset.command === "record" && !!s.recording));
  }
  for (const button of $("scenes").children) button.classList.toggle("on", button.dataset.scene === s.scene);
  for (const name of schema.sound) {
    const level = s[`sound_${name}`];
    if (typeof level !== "number") continue;
    $(`sound-${name}`).textContent = level.toFixed(2);
    $(`meter-${name}`).style.width = `${Math.round(100 * Math.min(1, Math.max(0, level)))}%`;
  }
  window.controlPage = {status: s, updates: (window.controlPage ? window.controlPage.updates : 0) + 1};
}

fetch(`control/state.json${query}`)
  .then((r) => { if (!r.ok) throw new Error(r.status === 403 ? "forbidden: a wrong or missing token" : r.statusText);
                 return r.json(); })
  .then((state) => {
    schema = state.schema;
    build();
    show(state.status);
    const events = new EventSource(`control/events${query}`);
    events.onmessage = (e) => show(JSON.parse(e.data));
    events.onerror = () => { $("state").textContent = "reconnecting"; };
  })
  .catch((e) => { $("state").textContent = e.message; });
