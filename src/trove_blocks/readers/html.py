"""HtmlFileReader: one Document per saved web page (``*.html`` files), the raw HTML as its text.

Why: web pages saved as files (a crawl's dump, a benchmark's fixtures) have no WARC envelope, so datatrove's
WarcReader cannot read them; this reader gives them the same shape WarcReader gives a response record
(text = the HTML, to be extracted by Trafilatura next), so the rest of a pipeline does not care where pages
came from.

Metadata: ``file_path`` (the page's file) and, when the reader is given ``urls``, ``url``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from datatrove.io import DataFileLike, DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.utils.logging import logger


class HtmlFileReader(BaseDiskReader):
    """Read each matching file as one page; undecodable files are skipped, logged (file and byte offset) and counted.

    Args:
        data_folder: folder of pages
        urls: optional {file name relative to data_folder: url} put into ``metadata["url"]``
        encoding: the pages' text encoding
        glob_pattern: which files are pages
        (the other arguments are BaseDiskReader's)
    """

    name = "🌐 Html files"

    def __init__(
        self,
        data_folder: DataFolderLike,
        urls: Mapping[str, str] | None = None,
        encoding: str = "utf-8",
        glob_pattern: str | None = "*.html",
        paths_file: DataFileLike | None = None,
        limit: int = -1,
        skip: int = 0,
        adapter: Callable | None = None,
        default_metadata: dict | None = None,
        recursive: bool = True,
        shuffle_files: bool = False,
    ):
        super().__init__(
            data_folder,
            paths_file=paths_file,
            limit=limit,
            skip=skip,
            adapter=adapter,
            default_metadata=default_metadata,
            recursive=recursive,
            glob_pattern=glob_pattern,
            shuffle_files=shuffle_files,
        )
        self.urls = dict(urls or {})
        self.encoding = encoding

    def read_file(self, filepath: str):
        with self.data_folder.open(filepath, "rb") as f:
            raw = f.read()
        try:
            html = raw.decode(self.encoding)
        except UnicodeDecodeError as error:
            logger.warning(f"{filepath}: not {self.encoding} at byte {error.start}; page skipped")
            self.stat_update("undecodable_files")
            return
        record = {"text": html, "id": filepath}
        if filepath in self.urls:
            record["metadata"] = {"url": self.urls[filepath]}
        with self.track_time():
            document = self.get_document_from_dict(record, filepath, 0)
        if document:
            yield document
