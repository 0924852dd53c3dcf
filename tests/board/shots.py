"""Screenshots of board views, saved and checked (not only taken): the element has a real
size, its screenshot is not one flat colour, and each canvas in it has drawn pixels."""

from __future__ import annotations

from pathlib import Path

_INKED = """el => Array.from(el.querySelectorAll('canvas')).map(c => {
  const ctx = c.getContext('2d');
  if (!ctx || !c.width || !c.height) return 0;
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230)) n++;
  }
  return n;
})"""


def check_view(probe, selector, out_dir, name, *, min_width=200, min_height=100, canvases=True):
    """Screenshot *selector* into *out_dir*/*name*.png and check it shows something.

    Returns the path of the saved screenshot.
    """
    from PIL import Image

    page = probe.page
    loc = page.locator(selector).first
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["width"] >= min_width and box["height"] >= min_height, (selector, box)
    if canvases:
        inked = loc.evaluate(_INKED)
        assert inked and all(n > 200 for n in inked), (selector, inked)
    path = Path(out_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    loc.screenshot(path=str(path))
    with Image.open(path) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
        assert img.width >= min_width * 0.9 and img.height >= min_height * 0.9, img.size
    assert colours is None or len(colours) > 8, (name, len(colours or []))
    return path
