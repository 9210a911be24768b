"""Render each document's text to one grayscale page per resolution mode (PNG bytes as datatrove Media)."""

from __future__ import annotations

from datatrove.data import DocumentsPipeline, Media, MediaType
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.render import MODES, PageStyle, missing_characters, render_page

OVERFLOW_POLICIES = ("flag", "exclude")


class PageRenderer(PipelineStep):
    """Adds one PNG page per mode to ``doc.media`` (``Media.metadata["mode"]``) and its layout to
    ``doc.metadata["render"][mode]`` = ``{font_size, lines, total_lines, overflow, png_bytes}``; text untouched.

    A text that does not fit a page even at the smallest font size (see :mod:`trove_blocks.render`) is, with
    ``on_overflow="flag"``, kept with ``overflow: true`` and the lines that fit (counted ``overflow_<mode>``);
    with ``"exclude"`` it is dropped with reason ``overflow_<mode>`` to the exclusion writer.
    A text with characters the font has no glyph for (the page would show empty boxes: other scripts than the
    font's) is, with ``on_missing_glyphs="flag"``, kept with them in ``doc.metadata["missing_glyphs"]`` (counted
    ``missing_glyphs``); with ``"exclude"`` it is dropped with reason ``missing_glyphs``, before it is rendered.
    """

    name = "🖼️ Page renderer"
    type = "🏷 - TAGGER"
    _requires_dependencies = [("PIL", "pillow")]

    def __init__(
        self,
        modes: tuple[str, ...] = tuple(MODES),
        style: PageStyle | None = None,
        on_overflow: str = "flag",
        exclusion_writer: DiskWriter | None = None,
        on_missing_glyphs: str = "exclude",
    ):
        super().__init__()
        unknown = [mode for mode in modes if mode not in MODES]
        if unknown or not modes:
            raise ValueError(f"modes must be a non-empty subset of {list(MODES)}, got {list(modes)}")
        for name, policy in (("on_overflow", on_overflow), ("on_missing_glyphs", on_missing_glyphs)):
            if policy not in OVERFLOW_POLICIES:
                raise ValueError(f"{name} must be one of {OVERFLOW_POLICIES}, got {policy!r}")
        self.modes = tuple(modes)
        self.style = style or PageStyle()
        self.on_overflow = on_overflow
        self.on_missing_glyphs = on_missing_glyphs
        self.exclusion_writer = exclusion_writer

    def _exclude(self, doc, reason: str, rank: int) -> None:
        self.stat_update("excluded", f"excluded_{reason}")
        if self.exclusion_writer is not None:
            doc.metadata["filter_reason"] = reason
            self.exclusion_writer.write(doc, rank)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        writer = self.exclusion_writer
        try:
            for doc in data:
                self.stat_update("documents")
                if missing := missing_characters(doc.text, self.style.font_file):
                    self.stat_update("missing_glyphs")
                    doc.metadata["missing_glyphs"] = missing
                    if self.on_missing_glyphs == "exclude":
                        self._exclude(doc, "missing_glyphs", rank)
                        continue
                overflowed = None
                pages = []
                with self.track_time():
                    for mode in self.modes:
                        page = render_page(doc.text, mode, self.style)
                        pages.append(page)
                        if page.layout.overflow:
                            self.stat_update(f"overflow_{mode}")
                            overflowed = overflowed or mode
                if overflowed and self.on_overflow == "exclude":
                    self._exclude(doc, f"overflow_{overflowed}", rank)
                    continue
                render = doc.metadata.setdefault("render", {})
                for page in pages:
                    layout = page.layout
                    render[page.mode] = {
                        "font_size": layout.font_size,
                        "lines": len(layout.lines),
                        "total_lines": layout.total_lines,
                        "overflow": layout.overflow,
                        "png_bytes": len(page.png),
                    }
                    doc.media.append(
                        Media(
                            id=f"{doc.id}/{page.mode}",
                            type=MediaType.IMAGE,
                            url="",
                            media_bytes=page.png,
                            length=len(page.png),
                            metadata={"mode": page.mode},
                        )
                    )
                    self.stat_update(f"png_bytes_{page.mode}", value=len(page.png))
                self.stat_update("rendered")
                yield doc
        finally:
            if writer is not None:
                writer.close()
