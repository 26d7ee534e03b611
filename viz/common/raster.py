"""The landscape as a picture: filled contour bands rendered to a PNG in NumPy.

Why not a Plotly contour trace: an animation frame that plays with
``redraw: False`` makes Plotly re-plot only the traces it names, and Plotly
drops the drawing layer of every trace type (and every subplot) that the
frame does not name; a contour trace vanishes on the first frame.  A layout
image is not a trace, so it stays; it is also one element for the browser to
draw instead of hundreds of SVG paths, and ~20 kB instead of ~120 kB.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def colormap(colorscale, t: np.ndarray) -> np.ndarray:
    """RGB (..., 3) float for ``t`` in [0, 1] on a Plotly colorscale [[pos, "#rrggbb"], ...]."""
    pos = np.array([p for p, _ in colorscale], np.float64)
    rgb = np.array([_hex(c) for _, c in colorscale], np.float64)  # (k, 3)
    return np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)


def bands_rgba(values: np.ndarray, colorscale, levels: int = 22, vmin=None, vmax=None,
               line_darken: float = 0.16) -> np.ndarray:
    """(h, w, 4) uint8: ``values[iy, ix]`` as ``levels`` flat colour bands with a darker
    pixel line where the band changes (the contour lines); NaN is transparent."""
    v = np.asarray(values, np.float64)
    finite = np.isfinite(v)
    if vmin is None:
        vmin = float(np.nanmin(v)) if finite.any() else 0.0
    if vmax is None:
        vmax = float(np.nanmax(v)) if finite.any() else 1.0
    span = max(vmax - vmin, 1e-12)
    band = np.clip(np.floor((np.where(finite, v, vmin) - vmin) / span * levels), 0, levels - 1)
    rgb = colormap(colorscale, (band + 0.5) / levels)
    edge = np.zeros(v.shape, bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    rgb[edge] *= 1.0 - line_darken
    alpha = np.where(finite, 255, 0)
    return np.concatenate([np.round(rgb), alpha[..., None]], axis=-1).astype(np.uint8)


def png(rgba: np.ndarray) -> bytes:
    """A PNG file of an (h, w, 4) uint8 image whose row 0 is the *bottom* (y up)."""
    h, w, _ = rgba.shape
    rows = np.ascontiguousarray(rgba[::-1])  # PNG rows go top to bottom
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def data_uri(png_bytes: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")
