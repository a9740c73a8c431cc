"""GroupMetadataV2 / GroupMetadataV3."""

import json

import pytest

from exzarr.errors import InvalidMetadataError, UnsupportedExtensionError
from exzarr.metadata import GroupMetadataV2, GroupMetadataV3

STORE = "memory://g"


def test_v2_group():
    g = GroupMetadataV2(attributes={"a": [1, 2]})
    assert g.zarr_format == 2 and g.metadata_key == ".zgroup" and g.node_type == "group"
    assert g.to_json() == {"zarr_format": 2}
    assert g.to_bytes() == b'{\n  "zarr_format": 2\n}'
    assert json.loads(g.attrs_to_bytes()) == {"a": [1, 2]}
    again = GroupMetadataV2.from_bytes(g.to_bytes(), zattrs=g.attrs_to_bytes())
    assert again == g
    assert GroupMetadataV2.from_bytes(g.to_bytes()).attributes == {}
    assert g.replace(attributes={}).attributes == {}


def test_v2_group_errors_are_located():
    with pytest.raises(InvalidMetadataError) as ei:
        GroupMetadataV2.from_json({"zarr_format": 3}, store=STORE, key="g/.zgroup")
    assert "zarr_format" in str(ei.value) and "g/.zgroup" in str(ei.value) and STORE in str(ei.value)
    with pytest.raises(InvalidMetadataError) as ei:
        GroupMetadataV2.from_bytes(b"{", store=STORE, key="g/.zgroup")
    assert "not valid JSON" in str(ei.value) and "g/.zgroup" in str(ei.value)
    with pytest.raises(InvalidMetadataError) as ei:
        GroupMetadataV2.from_bytes(b'{"zarr_format": 2}', zattrs=b"[1]", store=STORE,
                                   key="g/.zgroup")
    assert "g/.zattrs" in str(ei.value) and "not an object" in str(ei.value)


def test_v3_group():
    doc = {"attributes": {"spam": "ham", "eggs": 42}, "zarr_format": 3, "node_type": "group"}
    g = GroupMetadataV3.from_json(doc)
    assert g.attributes == {"spam": "ham", "eggs": 42} and g.consolidated_metadata is None
    assert g.to_json() == doc and list(g.to_json()) == list(doc)
    assert g.to_bytes().decode() == json.dumps(doc, indent=2)
    assert GroupMetadataV3.from_bytes(g.to_bytes()) == g
    assert GroupMetadataV3.from_json({"zarr_format": 3, "node_type": "group"}).attributes == {}


def test_v3_group_consolidated_metadata_kept_raw():
    cm = {"kind": "inline", "must_understand": False,
          "metadata": {"x": {"zarr_format": 3, "node_type": "group", "attributes": {}}}}
    doc = {"attributes": {}, "zarr_format": 3, "node_type": "group", "consolidated_metadata": cm}
    g = GroupMetadataV3.from_json(doc)
    assert g.consolidated_metadata == cm
    assert g.to_json()["consolidated_metadata"] == cm
    assert GroupMetadataV3.from_json({**doc, "consolidated_metadata": None}).consolidated_metadata is None
    with pytest.raises(InvalidMetadataError, match="consolidated_metadata"):
        GroupMetadataV3.from_json({**doc, "consolidated_metadata": [1]})


def test_v3_group_extensions():
    base = {"zarr_format": 3, "node_type": "group"}
    g = GroupMetadataV3.from_json({**base, "ext": {"must_understand": False, "v": 1}})
    assert g.extra_fields == {"ext": {"must_understand": False, "v": 1}}
    assert g.to_json()["ext"] == {"must_understand": False, "v": 1}
    with pytest.raises(UnsupportedExtensionError) as ei:
        GroupMetadataV3.from_json({**base, "ext": {"v": 1}}, store=STORE, key="zarr.json")
    assert "'ext'" in str(ei.value) and "cannot read" in str(ei.value) and STORE in str(ei.value)


@pytest.mark.parametrize("doc,needle", [
    ({"zarr_format": 3, "node_type": "array"}, "node_type"),
    ({"zarr_format": 2, "node_type": "group"}, "zarr_format"),
    ({"zarr_format": 3}, "node_type"),
    ({"zarr_format": 3, "node_type": "group", "attributes": "x"}, "attributes"),
])
def test_v3_group_errors(doc, needle):
    with pytest.raises(InvalidMetadataError) as ei:
        GroupMetadataV3.from_json(doc, store=STORE, key="a/zarr.json")
    assert needle in str(ei.value) and "a/zarr.json" in str(ei.value)
    assert ei.value.key == "a/zarr.json"
