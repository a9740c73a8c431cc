"""``CodecPipeline``: what the core calls to turn chunks into bytes and back.

``CodecPipeline.from_v3(codecs_json, spec)`` / ``CodecPipeline.from_v2(compressor,
filters, spec)`` build a pipeline bound to one chunk spec: a
:class:`~exzarr.codecs.v3.V3CodecPipeline` or a :class:`~exzarr.codecs.v2.V2CodecPipeline`.
Both derive from :class:`~exzarr.codecs._pipeline_base.PipelineBase` (the shared
interface: ``encode``, ``decode(raw, out=buf)``, ``to_json``, ``zero_copy`` and the
sharding properties) and count as ``CodecPipeline`` instances.  ``decode(raw, out=buf)``
decompresses straight into ``buf`` whenever the chain allows it; sharded v3 pipelines
additionally expose the partial-read protocol and shard assembly from inner chunks.
"""

from __future__ import annotations

from abc import ABC

from ._base import ChunkSpec
from .v2 import V2CodecPipeline
from .v3 import V3CodecPipeline

__all__ = ["CodecPipeline", "V3CodecPipeline", "V2CodecPipeline"]


class CodecPipeline(ABC):
    """The pipeline of one array: build it with :meth:`from_v3` or :meth:`from_v2`."""

    @staticmethod
    def from_v3(codecs, spec: ChunkSpec, *, skip_checksum: bool = False) -> V3CodecPipeline:
        return V3CodecPipeline.from_json(codecs, spec, skip_checksum=skip_checksum)

    @staticmethod
    def from_v2(compressor, filters, spec: ChunkSpec, *,
                skip_checksum: bool = False) -> V2CodecPipeline:
        return V2CodecPipeline.from_json(compressor, filters, spec, skip_checksum=skip_checksum)


CodecPipeline.register(V3CodecPipeline)
CodecPipeline.register(V2CodecPipeline)
