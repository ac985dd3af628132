"""The window's heads-up lines, made from the show's status and the parameter table: rates, the live
parameters, the model and scene, the mix, the sound's levels, a lost camera, a provider fallen back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from realtime.dream.params import live_params
from realtime.steer.kinds import Stats

if TYPE_CHECKING:
    from realtime.steer.show import Show


def hud(show: Show, stats: Stats | None, lost: bool) -> list[str]:
    s = show.status(stats)
    live = "  ".join(
        f"{p.name.replace('_', ' ')} {_short(s[p.name])}" for p in live_params().values() if p.name != "steps_per_frame"
    )
    rate = (
        f"{s['fps']:4.1f} fps"
        if "dream_hz" not in s
        else f"{s['display_fps']:4.1f} fps shown  {s['dream_hz']:4.1f} dreams/s"
    )
    lines = [
        f"{rate}  {s['ms_per_step']:5.0f} ms/step  {s['steps_per_frame']} steps/frame",
        live + ("  PAUSED" if s["paused"] else ""),
        f"{s['model_name']} on {s['provider'].removesuffix('ExecutionProvider')}"
        + (f"  [{s['scene']}]" if s["scene"] else ""),
    ]
    mix = mix_line(s)
    if mix:
        lines.append(mix)
    if "sound_level" in s:
        lines.append(
            "sound "
            + "  ".join(f"{k.removeprefix('sound_')} {'#' * round(8 * s[k]):<8}" for k in s if k.startswith("sound_"))
        )
    if lost:
        lines.append("CAMERA LOST: showing the last frame, reconnecting")
    if s["fell_back"]:
        lines.append(f"ON CPU: {s['fell_back']}")
    return lines


def mix_line(status: dict[str, Any]) -> str | None:
    layers, center = status["mix_layers"], status["mix"]
    if not layers or center is None:
        return None
    from realtime.dream.stream import mix_bump

    bars = " _.-=#"
    weights = mix_bump(len(layers), center)
    return "mix " + "".join(bars[min(5, int(w * 10))] for w in weights) + f"  ~{layers[round(center)]}"


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
