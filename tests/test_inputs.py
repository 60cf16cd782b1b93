"""Grids of numbers in requests (app.inputs): bounded, rectangular, numbers only, one error for
a long bad list, and the shape named by the input's own depth."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from app.inputs import grid, grid_or


class Shapes(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    image: grid(4) | None = None
    volume: grid(4, depth=3, max_outer=2) | None = None
    either: grid_or(4, (2, 3), Literal["blur", "sharpen"]) | None = None


def errors(**fields) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as exc:
        Shapes(**fields)
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


def test_a_rectangular_grid_of_numbers_arrives_as_floats():
    assert Shapes(image=[[0, 1], [0.5, 1]]).image == [[0.0, 1.0], [0.5, 1.0]]
    assert Shapes(volume=[[[1], [2]], [[3], [4]]]).volume == [[[1.0], [2.0]], [[3.0], [4.0]]]


def test_only_the_outer_side_is_in_the_schema():
    """A maxItems at every level would have schema-driven clients build max_side^depth numbers."""
    schema = Shapes.model_json_schema()["properties"]["volume"]["anyOf"][0]
    assert schema["maxItems"] == 2 and schema["minItems"] == 1
    assert "maxItems" not in schema["items"] and "maxItems" not in schema["items"]["items"]


def test_a_ragged_grid_is_refused_naming_the_row():
    [(loc, msg)] = errors(image=[[1, 2], [3, 4], [5]])
    assert loc == ("image",)
    assert "rows must all have the same length" in msg and "row 2 has 1" in msg and "first has 2" in msg
    [(loc, msg)] = errors(volume=[[[1, 2], [3, 4]], [[5, 6], [7]]])
    assert loc == ("volume",) and "every row has the same number of values" in msg
    [(loc, msg)] = errors(volume=[[[1], [2]], [[3]]])
    assert "every channel has the same number of rows" in msg and "channel 1 has 1" in msg


@pytest.mark.parametrize("bad", [True, "3", None, float("nan"), float("inf"), [1]])
def test_only_finite_numbers_are_values(bad):
    [(loc, _)] = errors(image=[[0, 0], [0, bad]])
    assert loc == ("image", 1, 1)


def test_sides_are_bounded():
    [(loc, msg)] = errors(image=[[0] * 5])
    assert loc == ("image",) and "at most 4 values a row, not 5" in msg
    [(loc, msg)] = errors(image=[[0]] * 5)
    assert loc == ("image",) and "at most 4" in msg
    [(loc, msg)] = errors(volume=[[[0]]] * 3)
    assert loc == ("volume",) and "at most 2" in msg
    [(loc, msg)] = errors(volume=[[[0] * 5]])
    assert loc == ("volume",) and "at most 4 values a row" in msg
    assert errors(image=[])[0][0] == ("image",)
    assert errors(image=[[]])[0][0] == ("image", 0)


def test_a_long_bad_row_is_one_error():
    [(loc, _)] = errors(image=[["x", "y", "z", "w"]] * 4)
    assert loc == ("image", 0, 0)


def test_either_shape_is_checked_as_the_input_is_nested():
    assert Shapes(either=[[1, 2]]).either == [[1.0, 2.0]]
    assert Shapes(either=[[[1, 2]]]).either == [[[1.0, 2.0]]]
    assert Shapes(either="blur").either == "blur"
    assert errors(either=[[1, False]]) == [(("either", "2-D", 0, 1), "Input should be a valid number")]
    [(loc, msg)] = errors(either=[[[1, 2]], [[3]]])
    assert loc == ("either", "3-D") and "rows must all have the same length" in msg
    [(loc, msg)] = errors(either="emboss")
    assert loc == ("either", "name") and "'blur' or 'sharpen'" in msg
