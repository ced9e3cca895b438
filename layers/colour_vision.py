"""How distinguishable the event-type palette stays under colour-vision deficiencies (issue 16).

Run ``python -m layers.colour_vision`` for the table the README records.

Method, implemented here from the published formulas (no code copied):

* **Simulation:** Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for
  Simulation of Color Vision Deficiency", IEEE Transactions on Visualization and Computer
  Graphics 15(6), 1291–1298, doi:10.1109/TVCG.2009.113. Their 3×3 matrices for severity 1.0
  (protanopia, deuteranopia, tritanopia; Table 1 of their supplementary data) are applied to
  linear-light sRGB.
* **sRGB ↔ linear and XYZ (D65):** IEC 61966-2-1 (sRGB).
* **Colour difference:** CIEDE2000, as written out by Sharma, Wu & Dalal (2005), "The CIEDE2000
  Color-Difference Formula: Implementation Notes, Supplementary Test Data, and Mathematical
  Observations", Color Research & Application 30(1), 21–30 (their test pairs are in
  tests/test_palette.py).

A pair of event types is counted as distinguishable by colour when ΔE00 ≥ :data:`MIN_DELTA_E`;
the map never relies on colour alone (each type also has its own symbol, EVENT_TYPE_SYMBOLS).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from layers.catalog import EVENT_TYPE_COLORS, UNKNOWN_EVENT_COLOR

# Machado et al. 2009, severity 1.0, linear RGB in -> linear RGB out.
MACHADO_2009 = {
    "protanopia": np.array([
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ]),
    "deuteranopia": np.array([
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]),
    "tritanopia": np.array([
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ]),
}

#: ΔE00 below which two symbol colours are treated as hard to tell apart at a glance on a map
#: (a just-noticeable difference is about 1–2; categorical map colours want an order more).
MIN_DELTA_E = 10.0

# sRGB (D65) linear RGB -> CIE XYZ, IEC 61966-2-1.
_RGB_TO_XYZ = np.array([
    [0.4124, 0.3576, 0.1805],
    [0.2126, 0.7152, 0.0722],
    [0.0193, 0.1192, 0.9505],
])
_WHITE_D65 = _RGB_TO_XYZ @ np.ones(3)


def hex_to_linear(colour: str) -> np.ndarray:
    """``#rrggbb`` -> linear-light RGB in [0, 1] (the sRGB transfer function undone)."""
    c = colour.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    srgb = np.array([int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_hex(rgb: np.ndarray) -> str:
    rgb = np.clip(rgb, 0, 1)
    srgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)
    return "#" + "".join(f"{round(v * 255):02x}" for v in srgb)


def simulate(colour: str, deficiency: str) -> np.ndarray:
    """Linear RGB of ``colour`` as seen with ``deficiency`` (a key of :data:`MACHADO_2009`)."""
    return np.clip(MACHADO_2009[deficiency] @ hex_to_linear(colour), 0, 1)


def linear_to_lab(rgb: np.ndarray) -> tuple[float, float, float]:
    xyz = (_RGB_TO_XYZ @ rgb) / _WHITE_D65

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = (f(float(v)) for v in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference (kL = kC = kH = 1), following Sharma et al. 2005, eqs. 1–21."""
    L1, a1, b1 = lab1
    L2, a2, b2 = lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dLp = L2 - L1
    dCp = c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    elif h2p - h1p > 180:
        dhp = h2p - h1p - 360
    else:
        dhp = h2p - h1p + 360
    dHp = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    Lp_bar = (L1 + L2) / 2
    Cp_bar = (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_bar = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hp_bar = (h1p + h2p + 360) / 2
    else:
        hp_bar = (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hp_bar - 30)) + 0.24 * math.cos(math.radians(2 * hp_bar))
         + 0.32 * math.cos(math.radians(3 * hp_bar + 6)) - 0.20 * math.cos(math.radians(4 * hp_bar - 63)))
    d_theta = 30 * math.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(Cp_bar ** 7 / (Cp_bar ** 7 + 25 ** 7))
    s_l = 1 + 0.015 * (Lp_bar - 50) ** 2 / math.sqrt(20 + (Lp_bar - 50) ** 2)
    s_c = 1 + 0.045 * Cp_bar
    s_h = 1 + 0.015 * Cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt((dLp / s_l) ** 2 + (dCp / s_c) ** 2 + (dHp / s_h) ** 2 + r_t * (dCp / s_c) * (dHp / s_h))


def palette() -> dict[str, str]:
    """The event types' colours, and the colour of an unknown type, as the map draws them."""
    return {**EVENT_TYPE_COLORS, "other type": UNKNOWN_EVENT_COLOR}


def pair_distances(colours: dict[str, str], deficiency: str | None) -> list[tuple[float, str, str]]:
    """ΔE00 of every pair of ``colours`` seen with normal vision (``None``) or ``deficiency``, smallest first."""
    labs = {
        name: linear_to_lab(hex_to_linear(c) if deficiency is None else simulate(c, deficiency))
        for name, c in colours.items()
    }
    return sorted((ciede2000(labs[a], labs[b]), a, b) for a, b in combinations(colours, 2))


def report(colours: dict[str, str] | None = None) -> dict[str, list[tuple[float, str, str]]]:
    colours = colours or palette()
    return {vision: pair_distances(colours, None if vision == "normal" else vision)
            for vision in ("normal", *MACHADO_2009)}


def main() -> None:
    for vision, pairs in report().items():
        low = [p for p in pairs if p[0] < MIN_DELTA_E]
        d, a, b = pairs[0]
        print(f"{vision:13s} closest pair ΔE00 {d:5.1f} ({a} / {b}); pairs under {MIN_DELTA_E:g}: {len(low)}"
              + "".join(f"\n{'':15s}{x:5.1f} {p} / {q}" for x, p, q in low))


if __name__ == "__main__":
    main()
