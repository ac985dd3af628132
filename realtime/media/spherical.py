"""360-degree metadata in an MP4 we wrote: equirectangular projection, mono or left-right stereo.

Two forms, as Google's Spatial Media specification defines them, so that old and new players
both see a sphere: V1, an RDF/XML `uuid` box in the video track (YouTube, most 360-degree players
and headset players read it), and V2, `st3d` + `sv3d` boxes in the H.264 sample entry (FFmpeg,
ExoPlayer, newer players). FFmpeg's muxer writes V2 only from stream side data, which PyAV cannot
set, so the boxes are added here to the finished file: the `moov` box (after the media data, as
our writer leaves it) is rewritten in place, so no media offset moves.
"""

from __future__ import annotations

import struct
from pathlib import Path

V1_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
V1_XML = (
    '<?xml version="1.0"?><rdf:SphericalVideo xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:GSpherical="http://ns.google.com/videos/1.0/spherical/">'
    "<GSpherical:Spherical>true</GSpherical:Spherical><GSpherical:Stitched>true</GSpherical:Stitched>"
    "<GSpherical:StitchingSoftware>deepdream-live</GSpherical:StitchingSoftware>"
    "<GSpherical:ProjectionType>equirectangular</GSpherical:ProjectionType>{stereo}</rdf:SphericalVideo>"
)
CHILDREN_AT = {b"stsd": 8, b"avc1": 78}  # bytes of fields before a box's child boxes (beyond its header)


def equirectangular(size: tuple[int, int], stereo: bool = False) -> bool:
    """Whether frames of this size (both eyes side by side with `stereo`) can be an equirectangular
    360-degree picture: each eye twice as wide as high (to a pixel, or 1 %)."""
    width, height = size[0] / (2 if stereo else 1), size[1]
    return abs(width - 2 * height) <= max(1.0, 0.02 * height)


def not_360(size: tuple[int, int], stereo: bool = False) -> str | None:
    """Why frames of this size are not marked as 360-degree video, or None when they can be."""
    if equirectangular(size, stereo):
        return None
    eye = f"each eye {size[0] // 2}x{size[1]}" if stereo else f"{size[0]}x{size[1]}"
    return (
        f"--wrap: {eye} is not 2:1, so the video is not marked as 360-degree (an equirectangular "
        "panorama is twice as wide as high); the dream still wraps around left to right"
    )


def box(kind: bytes, payload: bytes, full: bool = False) -> bytes:
    body = (b"\0\0\0\0" if full else b"") + payload  # a "full box" starts with version 0 and no flags
    return struct.pack(">I4s", 8 + len(body), kind) + body


def v1_box(stereo: bool) -> bytes:
    mode = "<GSpherical:StereoMode>left-right</GSpherical:StereoMode>" if stereo else ""
    return box(b"uuid", V1_UUID + V1_XML.format(stereo=mode).encode())


def v2_boxes(stereo: bool) -> bytes:
    st3d = box(b"st3d", bytes([2 if stereo else 0]), full=True)  # 2: left-right
    pose = box(b"prhd", struct.pack(">iii", 0, 0, 0), full=True)  # yaw, pitch, roll: straight ahead
    equi = box(b"equi", struct.pack(">IIII", 0, 0, 0, 0), full=True)  # the whole sphere, no crop
    sv3d = box(b"sv3d", box(b"svhd", b"deepdream-live\0", full=True) + box(b"proj", pose + equi))
    return st3d + sv3d


def _boxes(data, start: int, end: int):
    """(type, start, header length, size) of each box in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise ValueError(f"broken MP4 box at byte {pos}")
        yield kind, pos, header, size
        pos += size


def _child(data, parent, kind: bytes):
    _, start, header, size = parent
    first = start + header + CHILDREN_AT.get(parent[0], 0)
    return next((b for b in _boxes(data, first, start + size) if b[0] == kind), None)


def _video_chain(moov: bytearray) -> list:
    """moov > trak > mdia > minf > stbl > stsd > avc1 of the video track (the boxes' tuples)."""
    root = (b"moov", 0, 8, len(moov))
    for trak in _boxes(moov, 8, len(moov)):
        mdia = _child(moov, trak, b"mdia") if trak[0] == b"trak" else None
        hdlr = mdia and _child(moov, mdia, b"hdlr")
        if hdlr and moov[hdlr[1] + hdlr[2] + 8 : hdlr[1] + hdlr[2] + 12] == b"vide":
            chain = [root, trak, mdia]
            for kind in (b"minf", b"stbl", b"stsd", b"avc1"):
                chain.append(_child(moov, chain[-1], kind))
                if chain[-1] is None:
                    raise ValueError(f"no {kind.decode()} box in the video track (not H.264?)")
            return chain
    raise ValueError("no video track")


def _append(moov: bytearray, chain: list, payload: bytes) -> None:
    """Add payload as the last child of chain[-1], growing every box of the chain."""
    _, start, _, size = chain[-1]
    moov[start + size : start + size] = payload
    for _, start, header, _ in chain:
        if header == 16:
            struct.pack_into(">Q", moov, start + 8, struct.unpack_from(">Q", moov, start + 8)[0] + len(payload))
        else:
            struct.pack_into(">I", moov, start, struct.unpack_from(">I", moov, start)[0] + len(payload))


def _top_level(fh, end: int):
    """(type, start, size) of the file's top-level boxes, read header by header (mdat may be gigabytes)."""
    pos = 0
    while pos + 8 <= end:
        fh.seek(pos)
        head = fh.read(16)
        size, kind = struct.unpack_from(">I4s", head)
        if size == 1 and len(head) == 16:
            size = struct.unpack_from(">Q", head, 8)[0]
        elif size == 0:
            size = end - pos
        if size < 8:
            raise ValueError(f"broken MP4 box at byte {pos}")
        yield kind, pos, size
        pos += size


def add_spherical_metadata(path: Path, stereo: bool = False) -> None:
    """Mark an MP4 (moov after the media, as FFmpeg writes it by default) as equirectangular 360."""
    with open(path, "r+b") as fh:
        end = fh.seek(0, 2)
        tops = list(_top_level(fh, end))
        moov = next((t for t in tops if t[0] == b"moov"), None)
        if moov is None or any(t[0] == b"mdat" and t[1] > moov[1] for t in tops):
            raise ValueError(f"{path}: expected the moov box after the media data")
        fh.seek(moov[1])
        data = bytearray(fh.read(moov[2]))
        rest = fh.read()
        _append(data, _video_chain(data), v2_boxes(stereo))
        _append(data, _video_chain(data)[:2], v1_box(stereo))
        fh.seek(moov[1])
        fh.write(bytes(data) + rest)
