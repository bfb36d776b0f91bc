"""Draw one frame of a look at time t. Pure function of (look, size, duration, t)."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from .look import RGB, Look, mix


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    width, height = size
    column = Image.new("RGB", (1, 256))
    column.putdata([mix(top, bottom, i / 255) for i in range(256)])
    return column.resize((width, height), Image.BILINEAR)


class Scene:
    """Static layers are drawn once; draw(t) adds what moves."""

    def __init__(self, look: Look, width: int, height: int, duration: float):
        self.look = look
        self.w, self.h = width, height
        self.duration = max(duration, 0.001)
        self.rng = random.Random(f"{look.seed}:{look.scene}:{look.horizon}")
        self.horizon = int(height * look.horizon)
        self.unit = min(width, height)
        self.sky = _gradient((width, height), look.sky_top, look.sky_bottom)
        # The far layer is wider than the frame so the camera can pan across it.
        self.pan_px = int(width * 0.25 * min(look.speed, 2.5))
        self.layer = self._far_layer(width + self.pan_px + 2)
        count = {"space": 220, "abstract": 14, "fire": 90, "snow": 160}.get(look.scene, 60)
        self.particles = [
            (self.rng.random(), self.rng.random(), self.rng.uniform(0.4, 1.0), self.rng.random())
            for _ in range(count)
        ]
        self.clouds = [
            (self.rng.random(), self.rng.uniform(0.05, 0.35), self.rng.uniform(0.6, 1.4))
            for _ in range(5)
        ]

    # --- static -------------------------------------------------------------------------
    def _far_layer(self, width: int) -> Image.Image | None:
        look, h, rng = self.look, self.h, self.rng
        if look.scene in ("space", "abstract", "ocean"):
            return None
        layer = Image.new("RGBA", (width, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        base = self.horizon
        if look.scene == "city":
            x = 0
            while x < width:
                bw = int(self.unit * rng.uniform(0.05, 0.12))
                bh = int(h * rng.uniform(0.15, 0.5))
                shade = mix(look.ground, (0, 0, 0), rng.uniform(0, 0.4))
                draw.rectangle([x, base - bh, x + bw, h], fill=shade + (255,))
                step = max(4, self.unit // 60)
                for wy in range(base - bh + step, base - step, step * 2):
                    for wx in range(x + step, x + bw - step, step * 2):
                        if rng.random() < (0.55 if look.night else 0.25):
                            draw.rectangle(
                                [wx, wy, wx + step - 1, wy + step - 1], fill=look.highlight + (255,)
                            )
                x += bw + int(self.unit * rng.uniform(0.0, 0.02))
            draw.rectangle([0, base, width, h], fill=mix(look.ground, (0, 0, 0), 0.3) + (255,))
            return layer
        # Ridges: mountains, hills, dunes or drifts depending on the scene.
        peaks = {"nature": 0.28, "desert": 0.12, "snow": 0.22, "fire": 0.3}.get(look.scene, 0.2)
        for depth, tint in ((0, 0.35), (1, 0.0)):
            points = [(0, h)]
            x = 0
            while x <= width:
                y = base - int(h * peaks * rng.uniform(0.3, 1.0) * (1.0 if depth == 0 else 0.55))
                points.append((x, y + depth * int(h * 0.06)))
                x += int(self.unit * rng.uniform(0.08, 0.22))
            points += [(width, h)]
            color = mix(look.ground, look.sky_bottom, tint)
            draw.polygon(points, fill=color + (255,))
        if look.scene == "nature":
            for _ in range(width // max(8, self.unit // 25)):
                tx = rng.randrange(width)
                ty = base + rng.randrange(max(1, h - base))
                size = int(self.unit * rng.uniform(0.02, 0.05))
                tree = mix(look.ground, (0, 40, 0), 0.5)
                draw.polygon(
                    [(tx, ty - size * 2), (tx - size, ty), (tx + size, ty)], fill=tree + (255,)
                )
        return layer

    # --- moving -------------------------------------------------------------------------
    def draw(self, t: float) -> Image.Image:
        look = self.look
        frame = self.sky.copy()
        draw = ImageDraw.Draw(frame)
        progress = t / self.duration
        self._sky_objects(draw, t, progress)
        if self.layer is not None:
            offset = int(self.pan_px * (progress if look.pan > 0 else 1 - progress))
            crop = self.layer.crop((offset, 0, offset + self.w, self.h))
            frame.paste(crop, (0, 0), crop)
        scene = look.scene
        if scene == "ocean":
            self._waves(draw, t)
        elif scene == "abstract":
            self._shapes(draw, t)
        elif scene == "fire":
            self._embers(draw, t)
        if scene == "snow" or (look.night is False and scene == "snow"):
            self._fall(draw, t, speed=0.08, length=0, size=max(2, self.unit // 150))
        if look.rain:
            self._fall(draw, t, speed=0.9, length=max(6, self.unit // 25), size=1)
        return frame

    def _sky_objects(self, draw: ImageDraw.ImageDraw, t: float, progress: float) -> None:
        look, w, h, u = self.look, self.w, self.h, self.unit
        if look.night or look.scene == "space":
            for x, y, bright, phase in self.particles[:150]:
                twinkle = 0.5 + 0.5 * math.sin(t * 3 * look.speed + phase * 6.28)
                level = int(120 + 135 * bright * twinkle)
                px, py = int(x * w), int(y * h * (0.95 if look.scene == "space" else 0.6))
                draw.point((px, py), fill=(level, level, level))
                if bright > 0.9:
                    draw.ellipse([px - 1, py - 1, px + 1, py + 1], fill=(level, level, level))
        if look.scene == "space":
            r = int(u * 0.18)
            cx = int(
                w * (0.3 + 0.4 * progress * look.pan if look.pan > 0 else 0.7 - 0.4 * progress)
            )
            cy = int(h * 0.55)
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=look.ground)
            draw.ellipse(
                [cx - 2 * r, cy - r // 4, cx + 2 * r, cy + r // 4],
                outline=look.highlight,
                width=max(2, u // 200),
            )
            return
        if look.scene == "abstract":
            return
        r = int(u * (0.06 if look.night else 0.08))
        cx = int(w * (0.2 + 0.6 * progress * 0.3 + (0.4 if look.pan < 0 else 0)))
        cy = int(
            self.horizon * (0.35 + (0.4 if look.sunset else 0.0)) - progress * u * 0.05 * look.speed
        )
        color = (235, 235, 215) if look.night else look.highlight
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)
        if not look.night:
            for x0, y, scale in self.clouds:
                cx = int(((x0 + t * 0.02 * look.speed * look.pan) % 1.2 - 0.1) * w)
                cy, cw = int(y * h), int(u * 0.12 * scale)
                shade = mix(look.sky_bottom, (255, 255, 255), 0.7)
                for dx, dy, k in ((0, 0, 1.0), (-cw // 2, cw // 6, 0.7), (cw // 2, cw // 6, 0.75)):
                    rr = int(cw * 0.45 * k)
                    draw.ellipse(
                        [cx + dx - rr * 2, cy + dy - rr, cx + dx + rr * 2, cy + dy + rr], fill=shade
                    )

    def _waves(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        look, w, h = self.look, self.w, self.h
        bands = 5
        for i in range(bands):
            depth = i / (bands - 1)
            top = self.horizon + int((h - self.horizon) * depth * 0.8)
            amp = (h * 0.01) * (1 + depth * 2)
            freq = 2 * math.pi / (w * (0.25 + 0.1 * i))
            phase = t * look.speed * (1.2 + i * 0.4) * look.pan
            step = max(4, w // 120)
            points = [(x, top + amp * math.sin(x * freq + phase)) for x in range(0, w + step, step)]
            color = mix(look.ground, look.sky_bottom, 0.4 * (1 - depth))
            draw.polygon(points + [(w, h), (0, h)], fill=color)
            draw.line(points, fill=mix(color, (255, 255, 255), 0.35), width=max(1, h // 300))

    def _shapes(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        look, w, h, u = self.look, self.w, self.h, self.unit
        colors = (
            look.ground,
            look.highlight,
            look.sky_bottom,
            mix(look.ground, look.highlight, 0.5),
        )
        for i, (x, y, size, phase) in enumerate(self.particles):
            angle = t * look.speed * (0.4 + size) + phase * 6.28
            radius = u * 0.3 * (0.3 + y)
            cx = w / 2 + math.cos(angle) * radius * (1 + x)
            cy = h / 2 + math.sin(angle * 1.3) * radius
            r = u * 0.05 * (0.5 + size)
            sides = 3 + i % 4
            pts = [
                (
                    cx + r * math.cos(angle * 2 + k * 2 * math.pi / sides),
                    cy + r * math.sin(angle * 2 + k * 2 * math.pi / sides),
                )
                for k in range(sides)
            ]
            draw.polygon(pts, fill=colors[i % len(colors)])

    def _embers(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        look, w, h, u = self.look, self.w, self.h, self.unit
        for x, y, size, phase in self.particles:
            py = (y - t * 0.15 * look.speed * (0.5 + size)) % 1.0
            px = x + 0.02 * math.sin(t * 2 + phase * 6.28)
            r = max(1, int(u * 0.006 * size))
            heat = mix(look.ground, look.highlight, py)
            draw.ellipse([px * w - r, py * h - r, px * w + r, py * h + r], fill=heat)
        flame_h = h * 0.25
        step = max(6, w // 60)
        points = [(0, h)]
        for x in range(0, w + step, step):
            flicker = math.sin(x * 0.05 + t * 9 * look.speed) * math.sin(x * 0.013 - t * 4)
            points.append((x, h - flame_h * (0.5 + 0.5 * abs(flicker))))
        draw.polygon(points + [(w, h)], fill=look.ground)

    def _fall(
        self, draw: ImageDraw.ImageDraw, t: float, *, speed: float, length: int, size: int
    ) -> None:
        look, w, h = self.look, self.w, self.h
        color = (235, 240, 255) if length == 0 else mix(look.sky_bottom, (200, 210, 230), 0.6)
        for x, y, depth, phase in self.particles:
            py = (y + t * speed * look.speed * (0.5 + depth)) % 1.0
            px = (x + 0.01 * math.sin(t + phase * 6.28)) % 1.0
            X, Y = int(px * w), int(py * h)  # noqa: N806
            if length:
                draw.line([(X, Y), (X - length // 4, Y + length)], fill=color, width=size)
            else:
                draw.ellipse([X - size, Y - size, X + size, Y + size], fill=color)
