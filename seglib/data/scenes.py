"""Procedural driving scenes modelled on Cityscapes: the course's default offline dataset.

Each scene is a small 3-D street seen by a pinhole camera one unit above a flat
ground (1 world unit = camera height, about 1.3 m), looking down the street (+Z).
A world point (X right, Y up, Z forward) lands on pixel

    u = cx + f * X / Z,    v = cy + f * (1 - Y) / Z,

so objects shrink towards the horizon, and one scene description renders just as
well at 96x128 as at 512x1024.  The image and the label mask are drawn with the
same cv2 primitives (no anti-aliasing), far to near (painter's order), so
occlusions are right and labels align with pixels exactly.  Details such as lane
markings, windows or tail lights are painted into the image only: they keep the
label of the surface they sit on.  Lighting, shading and pixel noise come last.
All randomness is drawn from the ``rng`` argument: same seed, same bytes.
"""

import cv2
import numpy as np

CLASSES = ("road", "sidewalk", "building", "vegetation", "sky", "pole", "traffic sign", "person", "car")
COLORS = ((128, 64, 128), (244, 35, 232), (70, 70, 70), (107, 142, 35), (70, 130, 180),
          (153, 153, 153), (220, 220, 0), (220, 20, 60), (0, 0, 142))   # Cityscapes colours
VOID = 255
MIN_SIZE = 32
ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, POLE, SIGN, PERSON, CAR = range(9)

_SHIFT = 4                      # cv2 fixed-point bits: sub-pixel accurate drawing
_ONE = 1 << _SHIFT
_MOODS = (  # sky top, sky at horizon, brightness gain, RGB tint, contrast
    ((60, 115, 205), (170, 200, 235), 1.0, (1.0, 1.0, 1.0), 1.0),        # sunny day
    ((135, 140, 150), (190, 192, 198), 0.85, (0.97, 0.98, 1.03), 0.75),  # overcast
    ((50, 55, 105), (235, 150, 95), 0.7, (1.1, 0.9, 0.75), 0.9),         # dusk
)
_CAR_PAINT = ((215, 215, 220), (25, 25, 30), (125, 128, 135), (165, 20, 25), (25, 50, 130),
              (185, 180, 165), (50, 75, 55), (215, 170, 40), (95, 60, 40), (170, 175, 185))
_WALLS = ((160, 148, 130), (118, 118, 120), (150, 85, 65), (195, 190, 180), (92, 92, 98), (175, 155, 115))
_LEAVES = ((55, 90, 35), (75, 105, 40), (95, 110, 50), (60, 95, 45))
_CLOTHES = ((215, 30, 40), (30, 70, 190), (240, 195, 30), (35, 150, 65), (240, 120, 25), (240, 240, 240),
            (130, 40, 150), (20, 20, 25))
_SKIN = ((235, 195, 165), (205, 155, 115), (145, 100, 70), (95, 65, 45))
_OCTAGON = np.array([(1, 0.7071, 0, -0.7071, -1, -0.7071, 0, 0.7071),     # cos, sin of 8 angles
                     (0, 0.7071, 1, 0.7071, 0, -0.7071, -1, -0.7071)])
_GRAIN = np.full(256, 10.0, np.float32)   # uniform pixel noise by label: rough asphalt, leaves; smooth thin things
_GRAIN[[ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, POLE, SIGN, PERSON]] = 24.0, 17.0, 14.0, 40.0, 5.0, 4.0, 4.0, 4.0
_U, _V = np.array([0, 1, 1, 0], bool), np.array([0, 0, 1, 1], bool)   # rectangle corners, traced around


def _corners(low, high, upper):
    """Coordinates of rectangle corners, shape (..., 4): `high` where `upper`, else `low`."""
    return np.where(upper, np.asarray(high)[..., None], np.asarray(low)[..., None])


class _Canvas:
    """Image and mask drawn together through one pinhole camera (pixel coordinates in cv2 fixed point)."""

    def __init__(self, height, width, horizon, centre, mood):
        self.image = np.empty((height, width, 3), np.uint8)
        self.mask = np.empty((height, width), np.uint8)
        self.f, self.cx, self.cy = height * _ONE, centre * width * _ONE, horizon * height * _ONE
        self.mood = mood   # index into _MOODS
        self.near = 0.95 * self.f / (height * _ONE - self.cy)   # depth where the ground leaves the image

    def project(self, x, y, z):
        """World points (arrays broadcast together) -> pixel coordinates, shape (..., 2) int32."""
        s = self.f / np.asarray(z, np.float64)
        u, v = self.cx + s * x, self.cy + s * (1.0 - np.asarray(y))
        uv = np.empty(np.broadcast(u, v).shape + (2,), np.int32)
        uv[..., 0], uv[..., 1] = u, v
        return uv

    def upright(self, z, points):
        """A polygon through (x, y) world points in the upright plane at depth z (fast, no numpy maths)."""
        s = self.f / z
        return np.array([(self.cx + s * x, self.cy + s * (1.0 - y)) for x, y in points], np.int32)

    def box(self, x0, x1, y0, y1, z):
        """An upright rectangle facing the camera."""
        return self.upright(z, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))

    def side(self, x, y0, y1, z0, z1):
        """Rectangles in the wall plane X = x (facades, windows); arguments broadcast together."""
        return self.project(np.asarray(x)[..., None], _corners(y0, y1, _V), _corners(z0, z1, _U)).reshape(-1, 4, 2)

    def ground(self, x0, x1, z0, z1):
        """Rectangles lying on the ground, X in [x0, x1], Z in [z0, z1]; arguments broadcast together."""
        return self.project(_corners(x0, x1, _U), 0.0, _corners(z0, z1, _V)).reshape(-1, 4, 2)

    def fill(self, polys, color, label=None):
        """Fill a list of polygons in the image and, given a label, in the mask."""
        cv2.fillPoly(self.image, polys, color, cv2.LINE_8, _SHIFT)
        if label is not None:
            cv2.fillPoly(self.mask, polys, label, cv2.LINE_8, _SHIFT)

    def disc(self, x, y, z, radius, color, label=None):
        """A ball of world radius seen as a filled circle."""
        s = self.f / z
        centre, r = (int(self.cx + s * x), int(self.cy + s * (1.0 - y))), int(s * radius)
        cv2.circle(self.image, centre, r, color, -1, cv2.LINE_8, _SHIFT)
        if label is not None:
            cv2.circle(self.mask, centre, r, label, -1, cv2.LINE_8, _SHIFT)


def _color(rng, palette, spread=18.0):
    """A palette colour, varied per object (cv2 clips colours to 0..255 itself)."""
    pick, *jitter = rng.random(4).tolist()
    base = palette[int(pick * len(palette))]
    return tuple([c + spread * (2 * j - 1) for c, j in zip(base, jitter)])


def _shade(color, factor):
    """The same colour, darker (factor < 1) or lighter."""
    return tuple([c * factor for c in color])


def _draw_street(cv, rng, left, right, walk, lane, far):
    """Sky, sidewalks, road with markings, and a skyline where the street ends."""
    (h, w), horizon = cv.mask.shape, int(np.ceil(cv.cy / _ONE))
    gradient = np.array([_MOODS[cv.mood][:2]], np.uint8).transpose(1, 0, 2)     # sky: top -> horizon
    cv.image[:horizon] = cv2.resize(gradient, (w, horizon), interpolation=cv2.INTER_LINEAR)
    cv.mask[:horizon], cv.mask[horizon:] = SKY, SIDEWALK
    walk_color = _color(rng, ((150, 148, 142), (170, 160, 140), (140, 112, 100)), 12)
    cv2.rectangle(cv.image, (0, horizon), (w, h), walk_color, -1)
    joints = np.arange(rng.uniform(1, 2.5), 14, rng.uniform(1.2, 2.0))[:, None]  # paving slabs
    cv.fill(cv.ground([left - walk, right], [left, right + walk], joints, joints + 0.06), _shade(walk_color, 0.8))
    cv.fill(cv.ground([left - 0.12, right], [left, right + 0.12], cv.near, far), _shade(walk_color, 1.15))  # kerbs
    asphalt = _color(rng, ((88, 88, 92), (105, 102, 98), (75, 78, 85)), 8)
    cv.fill(cv.ground(left, right, cv.near, far), asphalt, ROAD)
    paint = (205, 205, 200) if rng.random() < 0.8 else (215, 185, 60)
    dashes, lines = np.arange(rng.uniform(0.5, 3), far, 6.0), np.arange(left + lane, right - 0.5, lane)[:, None]
    cv.fill(cv.ground(lines - 0.07, lines + 0.07, dashes, dashes + 2.5), paint)  # lane markings
    cv.fill(cv.ground([left + 0.2, right - 0.35], [left + 0.35, right - 0.2], cv.near, far), paint)
    if rng.random() < 0.3:                                                       # zebra crossing
        z, stripes = rng.uniform(6, 20), np.arange(left + 0.3, right - 0.5, 1.0)
        cv.fill(cv.ground(stripes, stripes + 0.5, z, z + 2.5), paint)
    x0 = np.cumsum(rng.uniform(3, 9, 16)) + left - walk - 30                     # skyline blocks
    x1, top = np.append(x0[1:], x0[-1] + 9), rng.uniform(3, 15, 16)
    blocks = cv.project(_corners(x0, x1, _U), _corners(0.0, top, _V), far)
    cv.fill(blocks, _color(rng, _WALLS), BUILDING)


def _draw_facades(cv, rng, x, far):
    """A row of buildings, and the odd park, along the wall plane X = x."""
    lots = rng.uniform(5, 15, 17)   # lot widths; the first lot starts where the wall leaves the image sideways
    lots[0] = 0.95 * cv.f * abs(x) / (cv.cx if x < 0 else cv.image.shape[1] * _ONE - cv.cx)
    edges = np.cumsum(lots)
    edges = np.minimum(edges[: np.searchsorted(edges, far) + 1], far)
    heights = rng.uniform(2.5, 14, len(edges) - 1)
    panes = []   # (floor, depth) of each window
    walls, parks = cv.side(x, 0, heights, edges[:-1], edges[1:]), rng.random(len(heights)) < 0.15
    for z0, z1, height, wall, park in zip(edges[:-1], edges[1:], heights, walls, parks):
        if park:   # trees and hedges with a ragged top instead of a building
            top = cv.project(x, rng.uniform(2, 3.5, 9), np.linspace(z1, z0, 9))
            cv.fill([np.concatenate([cv.project(x, 0.0, [z0, z1]), top])], _color(rng, _LEAVES, 12), VEGETATION)
            continue
        cv.fill([wall], _color(rng, _WALLS), BUILDING)
        if z0 < 30:   # far windows would be smaller than a pixel
            floors, columns = np.arange(1.0, height - 1.2, 2.3), np.arange(z0 + 0.8, z1 - 1.5, 2.2)
            panes += [(y, z) for y in floors.tolist() for z in columns.tolist()]
    if panes:
        y, z = np.array(panes).T
        glass = _shade((55, 65, 80) if cv.mood < 2 else (225, 200, 130), rng.uniform(0.7, 1.3))
        cv.fill(cv.side(x, y, y + 1.1, z, z + 1.0), glass)


# Things standing on the ground at (x, z), in world units, drawn in the image and in the mask.
def _draw_tree(cv, rng, x, z):
    cv.fill([cv.box(x - 0.08, x + 0.08, 0, 2.2, z)], (85, 65, 45), VEGETATION)
    leaf, size = _color(rng, _LEAVES, 15), rng.uniform(0.9, 1.5)
    blobs = zip((0, -0.5, 0.5, 0), (0, 0.5, 0.6, 1.0), (0.8, 1.0, 0.9, 1.15), rng.uniform(0.6, 0.8, 4).tolist())
    for dx, dy, shade, radius in blobs:   # leaves: overlapping balls in darker and lighter greens
        cv.disc(x + dx * size, 2.3 + dy * size, z, radius * size, _shade(leaf, shade), VEGETATION)


def _draw_street_light(cv, rng, x, z, towards_road):
    height, reach = rng.uniform(3.5, 4.5), towards_road * rng.uniform(0.8, 1.5)
    pole = cv.box(x - 0.04, x + 0.04, 0, height, z)
    arm = cv.box(min(x, x + reach), max(x, x + reach), height - 0.06, height, z)
    cv.fill([pole, arm], _color(rng, ((40, 44, 50), (30, 58, 42), (205, 210, 215)), 8), POLE)
    cv.fill([cv.box(x + reach - 0.2, x + reach + 0.2, height - 0.15, height, z)], (200, 200, 190), POLE)


def _draw_sign(cv, rng, x, z):
    height, r = rng.uniform(1.8, 2.3), rng.uniform(0.25, 0.35)
    cv.fill([cv.box(x - 0.035, x + 0.035, 0, height, z)], (60, 64, 70), POLE)
    kind = rng.integers(3)
    if kind == 0:                                                                # round sign
        cv.disc(x, height + r, z, r, (235, 20, 25), SIGN)
        cv.disc(x, height + r, z, 0.7 * r, (235, 235, 235) if rng.random() < 0.7 else (30, 70, 170))
    elif kind == 1:                                                              # warning triangle
        cv.fill([cv.upright(z, ((x - r, height), (x + r, height), (x, height + 1.7 * r)))], (235, 25, 25), SIGN)
    else:                                                                        # information board
        colour = ((20, 80, 220), (255, 215, 0), (20, 150, 60))[rng.integers(3)]
        cv.fill([cv.box(x - 1.2 * r, x + 1.2 * r, height, height + 1.5 * r, z)], colour, SIGN)


def _draw_person(cv, rng, x, z):
    h, step = rng.uniform(1.2, 1.45), rng.uniform(-0.08, 0.08)
    legs = [cv.box(x + (a + b) * h, x + (a + b + 0.08) * h, 0, 0.48 * h, z) for a, b in ((-0.1, step), (0.02, -step))]
    cv.fill(legs, _color(rng, ((40, 45, 70), (30, 30, 30), (110, 110, 115), (170, 150, 120)), 12), PERSON)
    torso = ((x - 0.12 * h, 0.46 * h), (x + 0.12 * h, 0.46 * h), (x + 0.15 * h, 0.82 * h), (x - 0.15 * h, 0.82 * h))
    cv.fill([cv.upright(z, torso)], _color(rng, _CLOTHES, 15), PERSON)
    cv.disc(x, 0.9 * h, z, 0.075 * h, _color(rng, _SKIN, 10), PERSON)


def _draw_car(cv, rng, x, z):
    w, length = rng.uniform(1.3, 1.5), rng.uniform(3, 3.8)
    body, roof = rng.uniform(0.65, 0.8), rng.uniform(1.05, 1.35)     # sedans to vans
    paint = _color(rng, _CAR_PAINT, 12)
    if abs(x) > w / 2:                                                           # flank facing the camera
        flank = x - np.sign(x) * w / 2
        wheels = z + np.array([[0.2], [0.8]]) * length + 0.28 * _OCTAGON[0]      # wheels, half hidden
        cv.fill(cv.project(flank, 0.28 + 0.28 * _OCTAGON[1], wheels), (25, 25, 25), CAR)
        zs, ys = np.array([0, 1, 1, 0.75, 0.2, 0]) * length + z, np.array([0.28, 0.28, body, body, roof, roof])
        cv.fill([cv.project(flank, ys, zs)], _shade(paint, 0.8), CAR)
    cv.fill([cv.box(x - w / 2 + 0.1, x - w / 2 + 0.35, 0, 0.3, z),
             cv.box(x + w / 2 - 0.35, x + w / 2 - 0.1, 0, 0.3, z)], (25, 25, 25), CAR)
    cabin = ((x - 0.45 * w, body), (x + 0.45 * w, body), (x + 0.38 * w, roof), (x - 0.38 * w, roof))
    cv.fill([cv.box(x - w / 2, x + w / 2, 0.2, body, z), cv.upright(z, cabin)], paint, CAR)
    low, high = body + 0.05, roof - 0.06
    cv.fill([cv.upright(z, ((x - 0.4 * w, low), (x + 0.4 * w, low), (x + 0.34 * w, high), (x - 0.34 * w, high)))],
            (40, 45, 55))   # rear window
    lamp = (200, 30, 30) if x > 0 or rng.random() < 0.5 else (235, 235, 210)    # tail or head lights
    cv.fill([cv.box(x - w / 2, x - w / 2 + 0.22, body - 0.2, body - 0.08, z),
             cv.box(x + w / 2 - 0.22, x + w / 2, body - 0.2, body - 0.08, z)], lamp)


def _draw_hood(cv, rng):
    """The ego vehicle's bonnet at the bottom of the frame, labelled void."""
    h, w = cv.mask.shape
    top = rng.uniform(0.04, 0.13) * h
    xs = np.linspace(-0.05, 1.05, 12) * w
    ys = h - top * (1 - 0.6 * (2 * xs / w - 1) ** 2)
    outline = np.concatenate([np.stack([xs, ys], 1), [[xs[-1], h + 1], [xs[0], h + 1]]])
    paint = _shade(_color(rng, _CAR_PAINT, 10), 0.7)
    cv.fill([(outline * _ONE).astype(np.int32)], paint, VOID)
    cv.fill([((outline[:12] + [0, 0.3 * top]) * _ONE).astype(np.int32)], _shade(paint, 1.25))   # reflection


def _finish(cv, rng):
    """Per-scene lighting (contrast, tint, soft blotches) and per-pixel grain, image only."""
    h, w = cv.mask.shape
    _, _, gain, tint, contrast = _MOODS[cv.mood]
    colour = gain * rng.uniform(0.85, 1.15) * np.multiply(tint, rng.uniform(0.94, 1.06, 3))
    curves = np.arange(256.0)[:, None] * contrast + 110 * (1 - contrast)          # one tone curve per channel
    curves = np.clip(curves * colour, 0, 255).astype(np.uint8)[:, None, :]
    blotches = cv2.resize(rng.integers(0, 256, (3, 4), np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    light = blotches.astype(np.float32) * np.float32(0.24 / 255) + np.float32(0.88)   # 0.88 .. 1.12
    grain = cv2.LUT(cv.mask, _GRAIN) * (rng.random((h, w), np.float32) - np.float32(0.5))
    image = cv2.LUT(cv.image, curves).astype(np.float32)
    image *= cv2.cvtColor(light, cv2.COLOR_GRAY2RGB)
    image += cv2.cvtColor(grain, cv2.COLOR_GRAY2RGB)
    cv.image = np.clip(image, 0, 255, out=image).astype(np.uint8)


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw one scene: image uint8 (H, W, 3) RGB, mask uint8 (H, W) with class indices 0..8 and 255 = void."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(0)")
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < MIN_SIZE:
            raise ValueError(f"{name} must be an int of at least {MIN_SIZE} pixels, got {value!r}")
    mood = int(np.searchsorted([0.5, 0.8], rng.random()))   # 50 % day, 30 % overcast, 20 % dusk
    cv = _Canvas(height, width, rng.uniform(0.36, 0.48), rng.uniform(0.4, 0.6), mood)
    lane, lanes = rng.uniform(2.4, 2.9), int(rng.integers(2, 5))
    left = -lane * (rng.integers(lanes) + rng.uniform(0.3, 0.7))    # the camera drives in one of the lanes
    right, walk, far = left + lanes * lane, rng.uniform(1.8, 3.2), rng.uniform(55, 80)
    _draw_street(cv, rng, left, right, walk, lane, far)
    _draw_facades(cv, rng, left - walk, far)
    _draw_facades(cv, rng, right + walk, far)

    things = []   # (depth, draw function, arguments), drawn far to near below
    for kerb, out in ((left, -1), (right, 1)):   # out: direction from the road to the sidewalk
        if rng.random() < 0.75:
            things += [(z, _draw_tree, (kerb + out * 0.75 * walk, z)) for z in np.cumsum(rng.uniform(6, 14, 5))]
        if rng.random() < 0.55:
            things += [(z, _draw_street_light, (kerb + out * 0.35, z, -out)) for z in np.cumsum(rng.uniform(8, 22, 3))]
    for _ in range(rng.integers(1, 4)):
        kerb, out = ((left, -1), (right, 1))[rng.integers(2)]
        z = rng.uniform(4, 30)
        things.append((z, _draw_sign, (kerb + out * 0.3, z)))
    for _ in range(1 + rng.poisson(2.0)):
        kerb, out = ((left, -1), (right, 1))[rng.integers(2)]
        x = kerb + out * rng.uniform(0.5, walk - 0.3) if rng.random() < 0.95 else rng.uniform(left, right)
        z = rng.uniform(3, 25)
        things.append((z, _draw_person, (x, z)))
    for x in left + lane * (np.arange(lanes) + 0.5):   # a queue of cars per lane, some gaps left out
        start = 5.0 if abs(x) < lane / 2 else 1.0      # keep a distance to the car ahead in the own lane
        things += [(z, _draw_car, (x + rng.uniform(-0.3, 0.3), z))
                   for z in start + np.cumsum(rng.uniform(4.5, 20, 3)) if rng.random() < 0.7 and z < 0.7 * far]
    for z, draw, args in sorted(things, key=lambda thing: -thing[0]):
        if z < far:
            draw(cv, rng, *args)

    if rng.random() < 0.85:
        _draw_hood(cv, rng)
    _finish(cv, rng)
    return cv.image, cv.mask
