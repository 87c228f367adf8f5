"""Response-shape normalisers: named in each descriptor, applied before the generated parser."""

from __future__ import annotations

from typing import Any

import pytest

from getsales_async._resources import OPERATIONS
from getsales_async._shapes import NORMALISERS, apply_shapes, compile_shapes


class TestNormalisers:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            ({"data": {"uuid": "a"}}, {"uuid": "a"}),
            ({"uuid": "a"}, {"uuid": "a"}),
            ({"data": [{"uuid": "a"}]}, {"data": [{"uuid": "a"}]}),
            (None, None),
        ],
        ids=["wrapped", "bare", "list-data-untouched", "null"],
    )
    def test_unwrap_data_takes_the_object_out_of_data(self, data: Any, expected: Any) -> None:
        """`{"data": {...}}` becomes the object; other shapes pass through."""
        assert apply_shapes(("unwrap_data",), data) == expected

    def test_wrap_items_wraps_flat_items_only(self) -> None:
        """Flat items gain the record key; wrapped ones and non-objects are left alone."""
        data = {"data": [{"uuid": "a"}, {"lead": {"uuid": "b"}, "markers": []}, "odd"]}
        assert apply_shapes(("wrap_items:lead",), data) == {
            "data": [{"lead": {"uuid": "a"}}, {"lead": {"uuid": "b"}, "markers": []}, "odd"]
        }

    def test_pairs_to_map_reads_value_count_pairs(self) -> None:
        """`{"data": [{value, count}]}` becomes `{value: count}`; a map passes through."""
        shapes = ("pairs_to_map:value,count",)
        pairs = {"data": [{"value": "inbox", "count": 4}, {"value": "sent", "count": 0}, 7]}
        assert apply_shapes(shapes, pairs) == {"inbox": 4, "sent": 0}
        assert apply_shapes(shapes, {"inbox": 4}) == {"inbox": 4}

    def test_shapes_apply_in_order(self) -> None:
        """Normalisers run in the order the descriptor lists them."""
        wrapped = {"data": {"data": [{"value": "inbox", "count": 4}]}}
        assert apply_shapes(("unwrap_data", "pairs_to_map:value,count"), wrapped) == {"inbox": 4}
        assert apply_shapes(("pairs_to_map:value,count", "unwrap_data"), wrapped) == {
            "data": [{"value": "inbox", "count": 4}]
        }


class TestCompile:
    def test_unknown_shape_is_refused_with_the_known_names(self) -> None:
        """A typo in a shape name fails loudly, listing the known names."""
        with pytest.raises(ValueError, match="unwrap_data"):
            compile_shapes(("unwrap_dta",))

    def test_wrong_arguments_are_refused(self) -> None:
        """A shape with the wrong number of arguments fails loudly."""
        with pytest.raises(ValueError, match="wrong arguments"):
            compile_shapes(("pairs_to_map:value",))

    def test_every_descriptor_names_known_shapes(self) -> None:
        """Each operation's shapes compile, and each normaliser is used by some operation."""
        used = set()
        for op in OPERATIONS.values():
            compile_shapes(op.shapes)
            used |= {shape.partition(":")[0] for shape in op.shapes}
        assert used == set(NORMALISERS)
