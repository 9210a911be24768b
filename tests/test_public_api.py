"""The package re-exports its blocks by role, as datatrove does, and every exported name resolves."""

import inspect

from datatrove.pipeline.base import PipelineStep

import trove_blocks
from trove_blocks import filters, formatters, readers, taggers, writers


def test_every_exported_name_resolves():
    for name in trove_blocks.__all__:
        assert getattr(trove_blocks, name) is not None, name


def test_role_packages_export_pipeline_steps_of_their_role():
    for package in (readers, filters, taggers, formatters, writers):
        for name in package.__all__:
            obj = getattr(package, name)
            assert getattr(trove_blocks, name) is obj  # also at the top level
            if inspect.isclass(obj) and not issubclass(obj, Exception):
                assert issubclass(obj, PipelineStep), f"{package.__name__}.{name} is not a PipelineStep"


def test_domain_modules_import_without_datatrove_executors():
    """Names are imported on first use: the domain logic does not pull in datatrove's executors."""
    import subprocess
    import sys

    code = (
        "import sys, trove_blocks.synsql, trove_blocks.packing, trove_blocks.splits; "
        "assert 'datatrove.executor' not in sys.modules, 'executors imported'; "
        "import trove_blocks; trove_blocks.readers.JsonArrayReader; trove_blocks.Stage; "
        "assert 'datatrove.executor' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dir_lists_names_not_imported_yet():
    assert {"JsonArrayReader", "Stage", "load_tokenizer"} <= set(dir(trove_blocks))


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no_such_block"):
        trove_blocks.no_such_block  # noqa: B018
