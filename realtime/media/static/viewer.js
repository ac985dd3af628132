// The viewer page's logic: reads the MJPEG stream with fetch (newest frame wins), draws it with
// GLView, flat or as a 360-degree sphere (the server's status.json says which: --wrap streams are
// equirectangular, --stereo streams are [left eye | right eye]). Drag (or turn the phone) to look
// around; "stereo" draws one view per eye side by side; "Enter VR" (shown only where WebXR
// immersive-vr is supported) puts the stream into a headset. Every request carries the page's ?token=.

const query = location.search;
const { GLView, invert, multiply, perspective, rotation } = await import(`./glview.js${query}`);
const $ = (id) => document.getElementById(id);
const canvas = $("view"), view = new GLView(canvas);
const status = await (await fetch(`status.json${query}`)).json();
const state = {
  mode: status.projection === "equirectangular" ? "sphere" : "flat",
  packed: !!status.stereo,  // frames are side by side already
  stereo: !!status.stereo, yaw: 0, pitch: 0, fovY: 75 * Math.PI / 180, orientation: null, frames: 0, xr: null,
  vrOffered: null,  // null until WebXR answers whether immersive VR is on offer
};
window.viewer = state;  // for tests and the curious: mode, yaw, pitch, frames

async function readStream() {  // multipart/x-mixed-replace, each part with a Content-Length
  const reader = (await fetch(`stream.mjpg${query}`)).body.getReader();
  let buffer = new Uint8Array(0), decoding = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer); joined.set(value, buffer.length); buffer = joined;
    for (;;) {
      const text = new TextDecoder("latin1").decode(buffer.subarray(0, Math.min(buffer.length, 512)));
      const header = text.match(/Content-Length: (\d+)\r\n\r\n/);
      if (!header) break;
      const start = header.index + header[0].length, end = start + Number(header[1]);
      if (buffer.length < end) break;
      const jpeg = buffer.slice(start, end);
      buffer = buffer.slice(end);
      if (!decoding) {  // a slow decoder skips frames rather than queueing them
        decoding = true;
        createImageBitmap(new Blob([jpeg], { type: "image/jpeg" }))
          .then((bitmap) => { view.upload(bitmap); bitmap.close(); state.frames++; if (!state.xr) draw(); })
          .finally(() => { decoding = false; });
      }
    }
  }
}

function camera(aspect) {  // inverse of projection x view for the on-screen views
  const turn = rotation("y", -state.yaw);  // dragging turns about the world's up, also with a phone
  const look = state.orientation ? multiply(state.orientation, turn) : multiply(rotation("x", -state.pitch), turn);
  return invert(multiply(perspective(state.fovY, aspect), look));
}

function draw() {
  const w = canvas.width = canvas.clientWidth * devicePixelRatio, h = canvas.height = canvas.clientHeight * devicePixelRatio;
  const eyes = state.stereo ? [[0, 0, w / 2, h], [w / 2, 0, w - w / 2, h]] : [[0, 0, w, h]];
  eyes.forEach((box, i) => view.draw(state.mode, box, textureHalf(i), camera(box[2] / box[3])));
}

function textureHalf(eye) { return state.packed ? [eye * 0.5, 0.5] : [0, 1]; }

function dragToLook() {
  let last = null;
  canvas.addEventListener("pointerdown", (e) => { last = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointerup", () => { last = null; });
  canvas.addEventListener("pointermove", (e) => {
    if (!last || state.mode !== "sphere") return;
    const perPixel = state.fovY / canvas.clientHeight;  // the scene follows the pointer
    state.yaw += (e.clientX - last[0]) * perPixel;
    state.pitch = Math.max(-1.5, Math.min(1.5, state.pitch + (e.clientY - last[1]) * perPixel));
    last = [e.clientX, e.clientY];
    draw();
  });
}

function turnThePhone() {  // deviceorientation (W3C: Z-X'-Y'' Euler angles) -> the phone camera's rotation
  addEventListener("deviceorientation", (e) => {
    if (e.alpha === null || state.mode !== "sphere") return;
    if (state.heading === undefined) state.heading = e.alpha;  // start facing the picture's centre
    const rad = Math.PI / 180, screenAngle = (screen.orientation ? screen.orientation.angle : 0) * rad;
    // the phone in the Earth's frame (z up, y north), turned into ours (y up, ahead is -z); the
    // screen's own rotation (landscape) undone last
    const device = multiply(multiply(rotation("z", (e.alpha - state.heading) * rad), rotation("x", e.beta * rad)),
                            rotation("y", e.gamma * rad));
    const world = multiply(rotation("x", -Math.PI / 2), multiply(device, rotation("z", -screenAngle)));
    state.orientation = invert(world);
    draw();
  });
}

async function offerVR() {
  const button = $("vr");
  state.vrOffered = !!navigator.xr && await navigator.xr.isSessionSupported("immersive-vr").catch(() => false);
  if (!state.vrOffered) return;
  button.hidden = false;
  button.onclick = async () => {
    const session = await navigator.xr.requestSession("immersive-vr");
    await view.gl.makeXRCompatible();
    const layer = new XRWebGLLayer(session, view.gl);
    session.updateRenderState({ baseLayer: layer });
    const space = await session.requestReferenceSpace("local");
    state.xr = session;
    session.addEventListener("end", () => { state.xr = null; draw(); });
    const frame = (time, xrFrame) => {
      session.requestAnimationFrame(frame);
      const pose = xrFrame.getViewerPose(space);
      if (!pose) return;
      view.gl.bindFramebuffer(view.gl.FRAMEBUFFER, layer.framebuffer);
      for (const eye of pose.views) {
        const look = Float32Array.from(eye.transform.inverse.matrix);
        look[12] = look[13] = look[14] = 0;  // only turning matters: the picture is far away
        const vp = layer.getViewport(eye);
        view.draw(state.mode === "sphere" ? "sphere" : "screen", [vp.x, vp.y, vp.width, vp.height],
                  textureHalf(eye.eye === "right" ? 1 : 0), invert(multiply(eye.projectionMatrix, look)));
      }
    };
    session.requestAnimationFrame(frame);
  };
}

async function poll() {
  try {
    const s = await (await fetch(`status.json${query}`)).json();
    $("status").textContent = `${s.fps.toFixed(1)} fps, ${s.model}${state.mode === "sphere" ? ", 360" : ""}`;
  } catch (e) { /* the show may be restarting; try again */ }
  setTimeout(poll, 1000);
}

$("stereo").onclick = () => { state.stereo = !state.stereo; draw(); };
addEventListener("resize", draw);
dragToLook();
turnThePhone();
offerVR();
poll();
readStream();
