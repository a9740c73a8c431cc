"""Group metadata: v2 ``.zgroup`` (+ ``.zattrs``) and v3 ``zarr.json`` with ``node_type: group``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._common import (fail, jsonable, loads_document, located, parse_attributes,
                      require_object, require_v2_format)
from ._document import MetadataDocument, ZattrsMixin
from .array_v2 import attributes_from_bytes, zattrs_key_for
from .array_v3 import _check_format_and_type
from .extensions import split_unknown_fields

__all__ = ["GroupMetadataV2", "GroupMetadataV3"]

_DOC_V2 = "Zarr v2 group metadata"
_DOC_V3 = "Zarr v3 group metadata"
_KNOWN_V3 = ("zarr_format", "node_type", "attributes", "consolidated_metadata")


@dataclass(frozen=True, eq=False)
class GroupMetadataV2(ZattrsMixin, MetadataDocument):
    """A v2 group: ``.zgroup`` is ``{"zarr_format": 2}``, attributes live in ``.zattrs``."""

    attributes: dict = field(default_factory=dict)

    zarr_format: ClassVar[int] = 2
    metadata_key: ClassVar[str] = ".zgroup"
    doc_kind: ClassVar[str] = _DOC_V2
    node_type: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        with located(_DOC_V2):
            object.__setattr__(self, "attributes", parse_attributes(self.attributes))

    def to_json(self) -> dict:
        return {"zarr_format": 2}

    @classmethod
    def from_json(cls, doc: Mapping, *, attributes: Mapping | None = None, store=None,
                  key: str | None = None) -> GroupMetadataV2:
        """Parse ``.zgroup`` (other keys are ignored); ``attributes`` is the ``.zattrs`` content."""
        with located(_DOC_V2, store, key):
            require_object(doc)
            require_v2_format(doc, ".zgroup")
            return cls(attributes=parse_attributes(attributes))

    @classmethod
    def from_bytes(cls, data: bytes, *, zattrs: bytes | None = None, store=None,
                   key: str | None = None) -> GroupMetadataV2:
        attributes = attributes_from_bytes(zattrs, store=store, key=zattrs_key_for(key))
        doc = loads_document(data, _DOC_V2, store, key)
        return cls.from_json(doc, attributes=attributes, store=store, key=key)


@dataclass(frozen=True, eq=False)
class GroupMetadataV3(MetadataDocument):
    """A v3 group; ``consolidated_metadata`` is kept as the raw object zarr-python writes."""

    attributes: dict = field(default_factory=dict)
    consolidated_metadata: dict | None = None
    extra_fields: dict = field(default_factory=dict)

    zarr_format: ClassVar[int] = 3
    metadata_key: ClassVar[str] = "zarr.json"
    doc_kind: ClassVar[str] = _DOC_V3
    node_type: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        with located(_DOC_V3):
            object.__setattr__(self, "attributes", parse_attributes(self.attributes))
            cm = self.consolidated_metadata
            if cm is not None:
                if not isinstance(cm, Mapping):
                    fail(f"consolidated_metadata must be an object or null, got {cm!r}",
                         "remove the field or rewrite it with consolidate_metadata")
                object.__setattr__(self, "consolidated_metadata", jsonable(cm))
            extra = parse_attributes(self.extra_fields, "extra_fields")
            for k in extra:
                if k in _KNOWN_V3:
                    fail(f"extra field {k!r} clashes with a standard field",
                         "pass standard fields as arguments, not in extra_fields")
            split_unknown_fields(extra, (), "group")
            object.__setattr__(self, "extra_fields", extra)

    def to_json(self) -> dict:
        doc: dict[str, Any] = {"attributes": dict(self.attributes), "zarr_format": 3,
                               "node_type": "group"}
        if self.consolidated_metadata is not None:
            doc["consolidated_metadata"] = self.consolidated_metadata
        doc.update(self.extra_fields)
        return copy.deepcopy(doc)

    @classmethod
    def from_json(cls, doc: Mapping, *, store=None, key: str | None = None) -> GroupMetadataV3:
        with located(_DOC_V3, store, key):
            require_object(doc)
            _check_format_and_type(doc, "group")
            extra = split_unknown_fields(doc, _KNOWN_V3, "group")
            return cls(attributes=doc.get("attributes") or {},
                       consolidated_metadata=doc.get("consolidated_metadata"),
                       extra_fields=extra)
