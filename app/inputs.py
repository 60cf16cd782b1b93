"""Request shapes' building blocks: grids of numbers that arrive whole, bounded and rectangular.

A grid comes as JSON arrays of arrays of numbers (`grid(64)`: H × W rows of values,
`grid(64, depth=3)`: C × H × W). Every array stops at its first bad item (fail_fast: a long bad
list is one error, not thousands); in a strict model a boolean or a string is refused where a
number is asked; the arrays at one level must be equally long (a ragged grid is a 422 naming the
field and the row, never NumPy's "inhomogeneous shape"), and no side longer than its bound.

The outer array's bound is in the schema (maxItems), the inner sides' are checked with the
rows: a schema with a large maxItems at every level makes a schema-driven client (or fuzzer)
build grids of max_side^depth numbers.

`grid_or(...)` is a field that takes a grid of one of several depths (or a name): the depth of
the input picks the shape it is checked against, so an error names one shape ("input.2-D.0.1:
Input should be a valid number"), not every shape it could have been.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import AfterValidator, Discriminator, Field, Tag

# What the arrays of a grid hold, outermost first: a 2-D grid is rows of values.
AXES = {2: ("row", "value"), 3: ("channel", "row", "value"), 4: ("filter", "channel", "row", "value")}


def rectangular(values: list, depth: int, sides: tuple[int, ...]) -> list:
    """`values` itself, or ValueError naming the first array whose length differs from the
    first's at its level (a row of another length, a channel of other rows, ...) or passes its
    level's bound in `sides`."""
    level: list = [values]
    for d in range(1, depth):
        items = [item for group in level for item in group]
        lengths = [len(item) for item in items]
        outer, inner = AXES[depth][d - 1], AXES[depth][d]
        odd = next((k for k, n in enumerate(lengths) if n != lengths[0]), None)
        if odd is not None:
            where = f"{outer} {odd}" if d == 1 else f"{outer} {odd} (counted across the grid)"
            raise ValueError(f"rows must all have the same length: every {outer} has the same number of "
                             f"{inner}s; the first has {lengths[0]}, {where} has {lengths[odd]}")
        if lengths[0] > sides[d]:
            raise ValueError(f"at most {sides[d]} {inner}s a {outer}, not {lengths[0]}")
        level = items
    return values


def grid(max_side: int, depth: int = 2, max_outer: int | None = None) -> Any:
    """A `depth`-dimensional grid of numbers (2 … 4), rows and values 1 … max_side a side; the
    channels of a 3-D grid, the filters and channels of a 4-D one 1 … max_outer (default
    max_side)."""
    sides = tuple((max_outer or max_side) if axis < depth - 2 else max_side for axis in range(depth))
    inner: Any = Annotated[list[float], Field(min_length=1, fail_fast=True)]
    for _ in range(depth - 2):
        inner = Annotated[list[inner], Field(min_length=1, fail_fast=True)]
    outer = Annotated[list[inner], Field(min_length=1, max_length=sides[0], fail_fast=True)]
    return Annotated[outer, AfterValidator(lambda v: rectangular(v, depth, sides))]


def _nesting(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def grid_or(max_side: int, depths: tuple[int, ...] = (2,), names: Any = None,
            max_outer: int | None = None) -> Any:
    """A grid of any of `depths` dimensions, or (when `names` is a Literal of names) a name."""
    choices: list[Any] = [Annotated[grid(max_side, d, max_outer), Tag(f"{d}-D")] for d in depths]
    if names is not None:
        choices.append(Annotated[names, Tag("name")])

    def pick(value: Any) -> str:
        if isinstance(value, str) and names is not None:
            return "name"
        nested = _nesting(value)
        return f"{min(depths, key=lambda d: (abs(d - nested), -d))}-D"

    return Annotated[Union[tuple(choices)], Discriminator(pick)]  # noqa: UP007
