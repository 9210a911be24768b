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
