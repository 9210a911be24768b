"""Rendering benchmark: images/s per core and bytes per image, per mode, for three contenders in one run.

- pipeline: trove_blocks.render.render_page (measured wrapping, fitted font size, 2-bit grey PNG)
- floor:    a bare Pillow loop over the same texts: textwrap by character count at the font size the pipeline
            chose, draw in grey, save an 8-bit grey PNG (no fitting, no measuring)
- rgb:      the pipeline's page drawn in RGB and saved as an RGB PNG (what a plain renderer stores)

Texts: 1000-token (cl100k) windows of real Wikipedia text (tests/data/wiki), one window every --stride tokens.
Each contender runs in its own subprocess on one core; peak RSS comes from getrusage(RUSAGE_CHILDREN).
Goals (issue 5): pipeline >= 80% of the floor's images/s; pipeline bytes <= 40% of rgb bytes.

    python bench/render/run.py
    python bench/render/run.py --pages 100 --modes tiny,small,base,large
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))  # bench/ is not a package: its scripts run by path
import common  # noqa: E402

WIKI = REPO / "tests" / "data" / "wiki" / "wikitext2_test_first3articles.txt"
MODE_NAMES = ("tiny", "small", "base", "large")  # trove_blocks.render.MODES, without importing it here


def contexts(count: int, stride: int) -> list[str]:
    from trove_blocks.tokenizers import load_tokenizer

    text = WIKI.read_text(encoding="utf-8")
    encoding = load_tokenizer("cl100k_base").encode(text, add_special_tokens=False)
    starts = range(0, len(encoding.ids) - 1000, stride)
    windows = [text[encoding.offsets[s][0] : encoding.offsets[s + 999][1]] for s in starts]
    return [windows[i % len(windows)] for i in range(count)]


def measure(contender: str, mode: str, texts: list[str]) -> dict:
    """Render every text once in this process; images/s over CPU time, mean PNG bytes."""
    import io
    import textwrap

    from PIL import Image, ImageDraw

    from trove_blocks.render import MODES, _font, draw_page, font_path, layout_page, render_page

    side = MODES[mode]
    layouts = [layout_page(text, side) for text in texts] if contender != "pipeline" else None
    sizes = []
    start = time.process_time()
    for index, text in enumerate(texts):
        if contender == "pipeline":
            png = render_page(text, mode).png
        elif contender == "rgb":
            buffer = io.BytesIO()
            draw_page(layouts[index]).convert("RGB").save(buffer, format="PNG")
            png = buffer.getvalue()
        else:  # floor
            layout = layouts[index]
            font = _font(str(font_path()), layout.font_size)
            columns = max(1, int((side - 2 * layout.margin_px) // font.width("M")))
            lines = [piece for part in text.split("\n") for piece in (textwrap.wrap(part, columns) or [""])]
            image = Image.new("L", (side, side), 255)
            draw = ImageDraw.Draw(image)
            for row, line in enumerate(lines):
                draw.text((layout.margin_px, layout.margin_px + row * layout.line_height), line, font=font.font, fill=0)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            png = buffer.getvalue()
        sizes.append(len(png))
    seconds = time.process_time() - start
    return {"images_per_s": len(texts) / seconds, "bytes": sum(sizes) / len(sizes)}


def mode_list(text: str) -> list[str]:
    """argparse type: a comma list of resolution modes."""
    modes = [mode.strip() for mode in text.split(",") if mode.strip()]
    unknown = [mode for mode in modes if mode not in MODE_NAMES]
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"modes: a comma list of {', '.join(MODE_NAMES)}; got {text!r}")
    return modes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--pages", type=common.positive_int, default=20, help="pages per mode and contender")
    parser.add_argument("--modes", type=mode_list, default="tiny,small,base,large", help="comma list of modes")
    parser.add_argument("--stride", type=common.positive_int, default=250, help="tokens between window starts")
    parser.add_argument("--worker", nargs=2, metavar=("CONTENDER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:  # the texts are made here: the parent stays small, so each worker's peak memory is its own
        print(json.dumps(measure(args.worker[0], args.worker[1], contexts(args.pages, args.stride))))
        return 0
    print(f"{args.pages} pages of ~1000 cl100k tokens per mode and contender, one core each\n")
    print(f"{'mode':6} {'contender':9} {'images/s':>9} {'KB/image':>9} {'peak RSS MB':>12}")
    verdicts = []
    for mode in args.modes:
        results = {}
        for contender in ("pipeline", "floor", "rgb"):
            command = [sys.executable, __file__, "--pages", str(args.pages), "--stride", str(args.stride)]
            row = results[contender] = common.run_measured(contender, [*command, "--worker", contender, mode])
            print(
                f"{mode:6} {contender:9} {row['images_per_s']:9.1f} {row['bytes'] / 1024:9.1f} "
                f"{row['peak_rss_mb']:12.0f}"
            )
        speed = results["pipeline"]["images_per_s"] / results["floor"]["images_per_s"]
        size = results["pipeline"]["bytes"] / results["rgb"]["bytes"]
        verdicts.append(
            f"{mode}: pipeline speed {speed:.0%} of the floor (goal >= 80%), bytes {size:.0%} of RGB PNG (goal <= 40%)"
        )
    print("\n" + "\n".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
