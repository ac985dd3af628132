// WebGL drawing of one video frame, three ways, all in one full-viewport fragment shader:
//   "flat":   the picture fitted into the viewport (letterboxed);
//   "sphere": an equirectangular 360-degree picture seen from its centre, through a camera given
//             as the inverse of (projection x rotation): each pixel's ray picks its longitude/latitude;
//   "screen": the picture as a 2 m wide screen 2.5 m ahead (a flat stream inside a VR headset).
// `eye` picks the texture's half for side-by-side stereo frames: [0, 1] whole, [0, .5] left, [.5, .5] right.
// No libraries: the few matrix helpers are below.

const VERTEX = `attribute vec2 pos; varying vec2 ndc;
void main() { ndc = pos; gl_Position = vec4(pos, 0.0, 1.0); }`;

const FRAGMENT = `precision highp float;
varying vec2 ndc;
uniform sampler2D frame; uniform int mode; uniform mat4 unproject;
uniform vec2 fit; uniform vec2 eye; uniform float aspect;
const float PI = 3.14159265358979;
vec4 pick(vec2 uv) {
  if (uv.x < 0.0 || uv.x > 1.0 || uv.y < 0.0 || uv.y > 1.0) return vec4(0.0, 0.0, 0.0, 1.0);
  return texture2D(frame, vec2(eye.x + uv.x * eye.y, uv.y));
}
void main() {
  if (mode == 0) { gl_FragColor = pick(0.5 + vec2(ndc.x, -ndc.y) * 0.5 * fit); return; }
  vec4 far = unproject * vec4(ndc, 1.0, 1.0);
  vec3 d = normalize(far.xyz / far.w);
  if (mode == 1) {  // longitude 0 (the picture's centre column) straight ahead, at -z
    float lon = atan(d.x, -d.z), lat = asin(clamp(d.y, -1.0, 1.0));
    vec2 uv = vec2(0.5 + lon / (2.0 * PI), 0.5 - lat / PI);
    gl_FragColor = texture2D(frame, vec2(eye.x + fract(uv.x) * eye.y, uv.y));
    return;
  }
  if (d.z >= 0.0) { gl_FragColor = vec4(0.0, 0.0, 0.0, 1.0); return; }
  vec3 hit = d * (-2.5 / d.z);  // the screen plane, z = -2.5 m; 2 m wide, height by the picture's aspect
  gl_FragColor = pick(vec2(0.5 + hit.x / 2.0, 0.5 - hit.y * aspect / 2.0));
}`;

const MODES = { flat: 0, sphere: 1, screen: 2 };

export class GLView {
  constructor(canvas) {
    const gl = canvas.getContext("webgl", { preserveDrawingBuffer: true, xrCompatible: true, antialias: false });
    if (!gl) throw new Error("no WebGL");
    this.gl = gl;
    const program = gl.createProgram();
    for (const [kind, text] of [[gl.VERTEX_SHADER, VERTEX], [gl.FRAGMENT_SHADER, FRAGMENT]]) {
      const shader = gl.createShader(kind);
      gl.shaderSource(shader, text); gl.compileShader(shader);
      if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
      gl.attachShader(program, shader);
    }
    gl.linkProgram(program); gl.useProgram(program);
    this.at = (name) => gl.getUniformLocation(program, name);
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0); gl.bindAttribLocation(program, 0, "pos");
    gl.vertexAttribPointer(gl.getAttribLocation(program, "pos"), 2, gl.FLOAT, false, 0, 0);
    gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
    for (const [key, value] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
                                [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]])
      gl.texParameteri(gl.TEXTURE_2D, key, value);
    this.width = 0; this.height = 0;
  }

  upload(image) {  // an ImageBitmap or <img>
    const gl = this.gl;
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, image);
    this.width = image.width; this.height = image.height;
  }

  // viewport: [x, y, w, h] in pixels; eye: [start, width] of the texture; unproject: mat4 (sphere/screen)
  draw(mode, viewport, eye, unproject) {
    const gl = this.gl;
    gl.viewport(...viewport);
    const picture = (this.width * eye[1]) / Math.max(this.height, 1), box = viewport[2] / viewport[3];
    gl.uniform1i(this.at("mode"), MODES[mode]);
    gl.uniform2f(this.at("fit"), Math.max(box / picture, 1), Math.max(picture / box, 1));  // contain
    gl.uniform2f(this.at("eye"), eye[0], eye[1]);
    gl.uniform1f(this.at("aspect"), picture);
    gl.uniformMatrix4fv(this.at("unproject"), false, unproject || identity());
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}

export function identity() { return new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]); }

export function multiply(a, b) {  // column-major 4x4, a x b
  const out = new Float32Array(16);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++)
    for (let k = 0; k < 4; k++) out[c * 4 + r] += a[k * 4 + r] * b[c * 4 + k];
  return out;
}

export function perspective(fovY, aspect, near = 0.1, far = 100) {
  const f = 1 / Math.tan(fovY / 2), m = new Float32Array(16);
  m[0] = f / aspect; m[5] = f; m[10] = (far + near) / (near - far); m[11] = -1; m[14] = 2 * far * near / (near - far);
  return m;
}

export function rotation(axis, angle) {  // right-handed, about "x", "y" or "z", column-major
  const c = Math.cos(angle), s = Math.sin(angle), m = identity();
  const [i, j] = { x: [1, 2], y: [2, 0], z: [0, 1] }[axis];  // the plane turned: i toward j
  m[i * 4 + i] = c; m[i * 4 + j] = s; m[j * 4 + i] = -s; m[j * 4 + j] = c;
  return m;
}

export function invert(m) {  // general 4x4 inverse by cofactors (XR projections may be asymmetric)
  const inv = new Float32Array(16), a = m;
  inv[0] = a[5]*a[10]*a[15] - a[5]*a[11]*a[14] - a[9]*a[6]*a[15] + a[9]*a[7]*a[14] + a[13]*a[6]*a[11] - a[13]*a[7]*a[10];
  inv[4] = -a[4]*a[10]*a[15] + a[4]*a[11]*a[14] + a[8]*a[6]*a[15] - a[8]*a[7]*a[14] - a[12]*a[6]*a[11] + a[12]*a[7]*a[10];
  inv[8] = a[4]*a[9]*a[15] - a[4]*a[11]*a[13] - a[8]*a[5]*a[15] + a[8]*a[7]*a[13] + a[12]*a[5]*a[11] - a[12]*a[7]*a[9];
  inv[12] = -a[4]*a[9]*a[14] + a[4]*a[10]*a[13] + a[8]*a[5]*a[14] - a[8]*a[6]*a[13] - a[12]*a[5]*a[10] + a[12]*a[6]*a[9];
  inv[1] = -a[1]*a[10]*a[15] + a[1]*a[11]*a[14] + a[9]*a[2]*a[15] - a[9]*a[3]*a[14] - a[13]*a[2]*a[11] + a[13]*a[3]*a[10];
  inv[5] = a[0]*a[10]*a[15] - a[0]*a[11]*a[14] - a[8]*a[2]*a[15] + a[8]*a[3]*a[14] + a[12]*a[2]*a[11] - a[12]*a[3]*a[10];
  inv[9] = -a[0]*a[9]*a[15] + a[0]*a[11]*a[13] + a[8]*a[1]*a[15] - a[8]*a[3]*a[13] - a[12]*a[1]*a[11] + a[12]*a[3]*a[9];
  inv[13] = a[0]*a[9]*a[14] - a[0]*a[10]*a[13] - a[8]*a[1]*a[14] + a[8]*a[2]*a[13] + a[12]*a[1]*a[10] - a[12]*a[2]*a[9];
  inv[2] = a[1]*a[6]*a[15] - a[1]*a[7]*a[14] - a[5]*a[2]*a[15] + a[5]*a[3]*a[14] + a[13]*a[2]*a[7] - a[13]*a[3]*a[6];
  inv[6] = -a[0]*a[6]*a[15] + a[0]*a[7]*a[14] + a[4]*a[2]*a[15] - a[4]*a[3]*a[14] - a[12]*a[2]*a[7] + a[12]*a[3]*a[6];
  inv[10] = a[0]*a[5]*a[15] - a[0]*a[7]*a[13] - a[4]*a[1]*a[15] + a[4]*a[3]*a[13] + a[12]*a[1]*a[7] - a[12]*a[3]*a[5];
  inv[14] = -a[0]*a[5]*a[14] + a[0]*a[6]*a[13] + a[4]*a[1]*a[14] - a[4]*a[2]*a[13] - a[12]*a[1]*a[6] + a[12]*a[2]*a[5];
  inv[3] = -a[1]*a[6]*a[11] + a[1]*a[7]*a[10] + a[5]*a[2]*a[11] - a[5]*a[3]*a[10] - a[9]*a[2]*a[7] + a[9]*a[3]*a[6];
  inv[7] = a[0]*a[6]*a[11] - a[0]*a[7]*a[10] - a[4]*a[2]*a[11] + a[4]*a[3]*a[10] + a[8]*a[2]*a[7] - a[8]*a[3]*a[6];
  inv[11] = -a[0]*a[5]*a[11] + a[0]*a[7]*a[9] + a[4]*a[1]*a[11] - a[4]*a[3]*a[9] - a[8]*a[1]*a[7] + a[8]*a[3]*a[5];
  inv[15] = a[0]*a[5]*a[10] - a[0]*a[6]*a[9] - a[4]*a[1]*a[10] + a[4]*a[2]*a[9] + a[8]*a[1]*a[6] - a[8]*a[2]*a[5];
  const det = a[0] * inv[0] + a[1] * inv[4] + a[2] * inv[8] + a[3] * inv[12];
  return inv.map((v) => v / det);
}
