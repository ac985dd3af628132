// The control page's picture, so one phone can watch and steer: the MJPEG stream in an <img>, scaled to fit.
// Where the stream cannot be used (refused: too many viewers; cut off) or costs too much (the "stills" button,
// or ?stills in the address), the newest frame alone, every STILL_S seconds. `picture` returns its state.
"use strict";
const STILL_S = 2;

function picture(img, toggle, query) {
  const state = {mode: "", timer: null};
  const still = () => {
    state.timer = null;
    if (state.mode === "still") img.src = `frame.jpg${query}${query ? "&" : "?"}n=${Date.now()}`;
  };
  const later = () => { clearTimeout(state.timer); state.timer = setTimeout(still, STILL_S * 1000); };
  const use = (mode) => {
    state.mode = mode;
    clearTimeout(state.timer);
    toggle.textContent = mode === "stream" ? "stills only" : "live stream";
    if (mode === "stream") img.src = `stream.mjpg${query}`; else still();
  };
  img.addEventListener("load", () => { if (state.mode === "still") later(); });
  // A still that fails (the show restarting) is asked again later; a stream that fails gives way to stills.
  img.addEventListener("error", () => { if (state.mode === "stream") use("still"); else later(); });
  toggle.addEventListener("click", () => use(state.mode === "stream" ? "still" : "stream"));
  use(new URLSearchParams(query).has("stills") ? "still" : "stream");
  return state;
}
