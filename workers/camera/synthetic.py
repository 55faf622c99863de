"""Synthetic camera scenes: textured backgrounds, textured moving shapes, a signal lamp, weather and tamper."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

VARIANTS = ("clean", "noise", "illumination", "rain")
NOISE_SIGMA = 8.0  # grey levels; about what a cheap sensor shows at dusk
ILLUMINATION_GAIN = 1.4  # sun out / lights on at 40% of the scene (MOG2 files darkening under shadow)
RAIN_STREAKS = 220


@dataclass
class Actor:
    """A moving shape; keyframes give its bottom-centre (foot) in normalised coordinates over time."""

    kind: str  # vehicle, person or bag
    size: tuple[float, float]  # normalised width, height
    keyframes: list[tuple[float, float, float]]  # (t, x, y), sorted by t
    colour: tuple[int, int, int] = (40, 40, 200)
    seed: int = 0

    @property
    def start(self) -> float:
        """First keyframe time."""
        return self.keyframes[0][0]

    @property
    def end(self) -> float:
        """Last keyframe time."""
        return self.keyframes[-1][0]

    def foot_at(self, t: float) -> tuple[float, float] | None:
        """Foot position at time t, or None when the actor is not in the scene."""
        ks = self.keyframes
        if t < ks[0][0] or t > ks[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in zip(ks, ks[1:], strict=False):
            if t0 <= t <= t1:
                f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                return (x0 + f * (x1 - x0), y0 + f * (y1 - y0))
        return (ks[-1][1], ks[-1][2])


@dataclass
class Effect:
    """A camera-level change over [start, end): covered, defocus or moved."""

    kind: str
    start: float
    end: float


@dataclass
class Scene:
    """A scripted scene: layout name, actors, signal timeline and camera effects."""

    name: str
    layout: str
    duration: float
    actors: list[Actor]
    signal: list[tuple[float, str]] = field(default_factory=list)  # (from time, state), sorted
    effects: list[Effect] = field(default_factory=list)
    lamp: tuple[float, float, float, float] | None = None  # normalised x, y, w, h of the signal head

    def signal_at(self, t: float) -> str:
        """Signal state at time t."""
        state = "unknown"
        for start, s in self.signal:
            if start <= t:
                state = s
        return state


def _texture(rng: np.random.Generator, h: int, w: int, base: float, contrast: float) -> np.ndarray:
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3)
    fine = rng.normal(0, 1, (h, w)).astype(np.float32)
    tex = base + contrast * (coarse / (coarse.std() + 1e-6)) + 0.4 * contrast * fine
    return np.clip(tex, 0, 255)


def _tint(gray: np.ndarray, bgr: tuple[float, float, float]) -> np.ndarray:
    return np.clip(np.stack([gray * c for c in bgr], axis=-1), 0, 255).astype(np.uint8)


def _poly(img: np.ndarray, pts: list[tuple[float, float]], colour, w: int, h: int) -> None:
    cv2.fillPoly(img, [np.array([[x * w, y * h] for x, y in pts], dtype=np.int32)], colour)


def background(layout: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """Paints the static view of a layout: textured surfaces with a few hard structures."""
    img = _tint(_texture(rng, h, w, 140, 14), (1.0, 1.0, 1.0))
    if layout == "traffic":
        road = _tint(_texture(rng, h, w, 85, 10), (1.0, 1.0, 1.02))
        y0, y1 = int(0.35 * h), int(0.85 * h)
        img[y0:y1] = road[y0:y1]
        shoulder = _tint(_texture(rng, h, w, 120, 12), (0.95, 1.0, 1.05))
        img[y1:] = shoulder[y1:]
        for x in range(0, w, w // 10):  # lane divider dashes
            cv2.rectangle(img, (x, int(0.595 * h)), (x + w // 20, int(0.605 * h)), (230, 230, 230), -1)
        cv2.rectangle(img, (int(0.615 * w), int(0.6 * h)), (int(0.625 * w), int(0.85 * h)), (235, 235, 235), -1)
        for i in range(7):  # buildings along the far sidewalk
            x = int((0.02 + i * 0.14) * w)
            colour = tuple(int(c) for c in rng.integers(60, 200, 3))
            cv2.rectangle(img, (x, int(0.02 * h)), (x + int(0.1 * w), int(0.2 * h)), colour, -1)
        lamp_pole = (int(0.665 * w), int(0.2 * h))
        cv2.rectangle(img, lamp_pole, (lamp_pole[0] + max(2, w // 200), int(0.34 * h)), (50, 50, 50), -1)
    else:
        step = max(8, w // 26)
        for x in range(0, w, step):
            cv2.line(img, (x, int(0.3 * h)), (x, h), (110, 110, 110), 1)
        for y in range(int(0.3 * h), h, step):
            cv2.line(img, (0, y), (w, y), (110, 110, 110), 1)
        img[: int(0.3 * h)] = _tint(_texture(rng, int(0.3 * h), w, 120, 20), (1.1, 0.95, 0.85))
        grass = _tint(_texture(rng, h, w, 110, 18), (0.55, 1.0, 0.6))
        mask = np.zeros((h, w), np.uint8)
        _poly(mask, [(0.62, 0.45), (0.95, 0.40), (0.98, 0.9), (0.70, 0.95), (0.60, 0.7)], 255, w, h)
        img[mask > 0] = grass[mask > 0]
        cv2.rectangle(img, (int(0.12 * w), int(0.3 * h)), (int(0.2 * w), int(0.44 * h)), (90, 70, 60), -1)
    return img


def sprite(actor: Actor, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Renders an actor's textured appearance and mask at frame size (w, h)."""
    rng = np.random.default_rng(actor.seed)
    sw, sh = max(3, int(round(actor.size[0] * w))), max(3, int(round(actor.size[1] * h)))
    tex = _texture(rng, sh, sw, 1.0, 0.12)
    img = np.clip(tex[..., None] * np.array(actor.colour, np.float32), 0, 255).astype(np.uint8)
    mask = np.zeros((sh, sw), np.uint8)
    if actor.kind == "vehicle":
        cv2.rectangle(mask, (0, int(0.15 * sh)), (sw - 1, int(0.88 * sh)), 255, -1)
        cv2.rectangle(mask, (int(0.25 * sw), 0), (int(0.75 * sw), int(0.3 * sh)), 255, -1)
        cv2.rectangle(img, (int(0.3 * sw), int(0.05 * sh)), (int(0.7 * sw), int(0.3 * sh)), (60, 50, 40), -1)
        for cx in (int(0.2 * sw), int(0.8 * sw)):
            cv2.ellipse(mask, (cx, int(0.86 * sh)), (max(2, sw // 10), max(2, sh // 8)), 0, 0, 360, 255, -1)
            cv2.ellipse(img, (cx, int(0.86 * sh)), (max(2, sw // 10), max(2, sh // 8)), 0, 0, 360, (20, 20, 20), -1)
    elif actor.kind == "person":
        cv2.circle(mask, (sw // 2, max(2, sh // 10)), max(2, sh // 10), 255, -1)
        cv2.ellipse(mask, (sw // 2, int(0.5 * sh)), (max(2, sw // 2), max(3, int(0.32 * sh))), 0, 0, 360, 255, -1)
        cv2.rectangle(mask, (int(0.2 * sw), int(0.6 * sh)), (int(0.8 * sw), sh - 1), 255, -1)
        img[int(0.6 * sh):] = (np.clip(tex[int(0.6 * sh):, :, None] * 60, 0, 255)).astype(np.uint8)
    else:
        cv2.rectangle(mask, (0, int(0.2 * sh)), (sw - 1, sh - 1), 255, -1)
        cv2.rectangle(mask, (int(0.3 * sw), 0), (int(0.7 * sw), int(0.25 * sh)), 255, 2)
    return img, mask


def _paste(frame: np.ndarray, img: np.ndarray, mask: np.ndarray, x1: int, y1: int) -> None:
    h, w = frame.shape[:2]
    sh, sw = mask.shape
    fx1, fy1, fx2, fy2 = max(0, x1), max(0, y1), min(w, x1 + sw), min(h, y1 + sh)
    if fx1 >= fx2 or fy1 >= fy2:
        return
    sub_m = mask[fy1 - y1:fy2 - y1, fx1 - x1:fx2 - x1] > 0
    region = frame[fy1:fy2, fx1:fx2]
    region[sub_m] = img[fy1 - y1:fy2 - y1, fx1 - x1:fx2 - x1][sub_m]


def _draw_lamp(frame: np.ndarray, lamp: tuple[float, float, float, float], state: str) -> None:
    h, w = frame.shape[:2]
    x, y, lw, lh = lamp
    x1, y1, x2, y2 = int(x * w), int(y * h), int((x + lw) * w), int((y + lh) * h)
    cv2.rectangle(frame, (x1, y1), (x2, y2), (30, 30, 30), -1)
    r = max(2, min(x2 - x1, (y2 - y1) // 3) // 2 - 1)
    cx = (x1 + x2) // 2
    for i, (colour, lit) in enumerate((((0, 0, 255), "red"), ((0, 190, 255), "amber"), ((0, 255, 0), "green"))):
        cy = y1 + (2 * i + 1) * (y2 - y1) // 6
        shade = colour if state == lit else tuple(c // 5 for c in colour)
        cv2.circle(frame, (cx, cy), r, shade, -1)


class SceneRenderer:
    """Renders a scene at a given size and frame rate, under one of the weather/noise variants."""

    def __init__(self, scene: Scene, width: int = 640, height: int = 360, fps: float = 5.0,
                 variant: str = "clean", seed: int = 0):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        self.scene, self.width, self.height, self.fps, self.variant = scene, width, height, fps, variant
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.background = background(scene.layout, width, height, rng)
        self.sprites = [sprite(a, width, height) for a in scene.actors]
        self.frames_total = int(scene.duration * fps)
        self._noise = [rng.normal(0, NOISE_SIGMA, (height, width, 3)).astype(np.int16) for _ in range(4)]
        self._rain = [self._rain_layer(rng) for _ in range(6)] if variant == "rain" else []

    def _rain_layer(self, rng: np.random.Generator) -> np.ndarray:
        layer = np.zeros((self.height, self.width, 3), np.uint8)
        length = max(4, self.height // 24)
        for _ in range(RAIN_STREAKS):
            x, y = int(rng.integers(0, self.width)), int(rng.integers(0, self.height))
            dx = int(rng.integers(-length // 4, length // 4 + 1))
            cv2.line(layer, (x, y), (x + dx, y + length), (70, 70, 70), 1)
        return layer

    def render(self, t: float) -> np.ndarray:
        """Returns the BGR frame at time t."""
        frame = self.background.copy()
        w, h = self.width, self.height
        for actor, (img, mask) in zip(self.scene.actors, self.sprites, strict=True):
            foot = actor.foot_at(t)
            if foot is not None:
                _paste(frame, img, mask, int(round(foot[0] * w - mask.shape[1] / 2)), int(round(foot[1] * h)) - mask.shape[0])
        if self.scene.lamp is not None:
            _draw_lamp(frame, self.scene.lamp, self.scene.signal_at(t))
        if self.variant == "rain":
            frame = cv2.add(frame, self._rain[int(self.rng.integers(len(self._rain)))])
        if self.variant == "illumination" and t >= 0.4 * self.scene.duration:
            frame = cv2.convertScaleAbs(frame, alpha=ILLUMINATION_GAIN)
        for effect in self.scene.effects:
            if effect.start <= t < effect.end:
                frame = self._apply(effect.kind, frame)
        if self.variant == "noise":
            noise = self._noise[int(self.rng.integers(len(self._noise)))]
            frame = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        return frame

    def _apply(self, kind: str, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if kind == "covered":
            # A hand or a bag over the lens: dark, almost flat, a little light leaking at one edge.
            ramp = np.linspace(18, 34, w, dtype=np.float32)
            return np.repeat(ramp[None, :, None], h, axis=0).repeat(3, axis=2).astype(np.uint8)
        if kind == "defocus":
            return cv2.GaussianBlur(frame, (0, 0), max(1.5, w / 160))
        if kind == "moved":
            matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 3.0, 1.0)
            matrix[:, 2] += (0.08 * w, 0.05 * h)
            return cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
        raise ValueError(f"unknown effect {kind!r}")

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        """Yields (frame, t) for the whole scene."""
        for i in range(self.frames_total):
            t = i / self.fps
            yield self.render(t), t
