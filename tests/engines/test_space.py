"""What a sweep varies, read as data: grid axes, distributions, seeds, the planned runs."""

from __future__ import annotations

import pytest

from sacredlite.sweeps.plan import build_runs
from sacredlite.sweeps.space import (
    SpaceError,
    parse_axis,
    parse_distribution,
    sample_points,
    seed_values,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lr=0.1,0.01", ("lr", [0.1, 0.01])),
        ("model.width=[64,128]", ("model.width", [64, 128])),
        ("opt=adam,sgd", ("opt", ["adam", "sgd"])),
        ("opt=['adam','sgd']", ("opt", ["adam", "sgd"])),
        ("name='a,b'", ("name", ["a,b"])),
        ("layers=[[1,2],[3]]", ("layers", [[1, 2], [3]])),
        ("x=5", ("x", [5])),
        ("t={'py/tuple': [1, 2]},3", ("t", [(1, 2), 3])),
    ],
)
def test_grid_axes_read_like_with_values(text, expected):
    """Values are literals (restored as data), comma lists or lists; a list value nests."""
    assert parse_axis(text) == expected


def test_code_in_a_grid_value_is_refused():
    """A jsonpickle tag that would call code is refused, as for `with` values."""
    with pytest.raises(ValueError, match="data"):
        parse_axis("x={'py/reduce': [{'py/function': 'os.system'}, ['echo']]}")


def test_distributions_are_calls_of_known_names_with_literals():
    """Only NAME(literals) of a known distribution is read; nothing is evaluated."""
    assert str(parse_distribution("loguniform(1e-4, 1e-1)")) == "loguniform(0.0001, 0.1)"
    assert parse_distribution("choice(['a', 'b'])").args == ("a", "b")
    for bad, message in [
        ("__import__('os').system('x')", "not NAME"),
        ("uniform(1, x)", "literal values"),
        ("uniform(3, 1)", "LOW < HIGH"),
        ("int(1.5, 4)", "integer bounds"),
        ("loguniform(0, 1)", "LOW > 0"),
        ("gauss(0, 1)", "Unknown distribution"),
    ]:
        with pytest.raises(SpaceError, match=message):
            parse_distribution(bad)


def test_samples_stay_in_bounds_and_repeat_with_their_seed():
    """Every kind draws inside its bounds; the same seed draws the same points."""
    space = {k: parse_distribution(v) for k, v in {
        "u": "uniform(-1, 1)", "lu": "loguniform(1e-3, 1)", "i": "int(2, 5)",
        "li": "logint(1, 1000)", "c": "choice('x', 'y')"}.items()}  # fmt: skip
    points = sample_points(space, 200, seed=7)
    assert points == sample_points(space, 200, seed=7)
    for p in points:
        assert -1 <= p["u"] <= 1 and 1e-3 <= p["lu"] <= 1 and p["c"] in ("x", "y")
        assert p["i"] in range(2, 6) and 1 <= p["li"] <= 1000 and isinstance(p["li"], int)
    assert {p["i"] for p in points} == {2, 3, 4, 5}


def test_seeds_and_the_planned_runs():
    """--seeds 3 is 0,1,2; runs are grid x seeds with fixed updates underneath, nested."""
    assert seed_values(3) == [0, 1, 2] and seed_values("[7, 9]") == [7, 9]
    with pytest.raises(SpaceError, match="--seeds"):
        seed_values(0)
    runs = build_runs({"model": {"depth": 2}}, {"model.width": [8, 16]}, [0, 1])
    assert [r.point for r in runs] == [
        {"model.width": 8, "seed": 0}, {"model.width": 8, "seed": 1},
        {"model.width": 16, "seed": 0}, {"model.width": 16, "seed": 1},
    ]  # fmt: skip
    assert runs[3].config_updates == {"model": {"depth": 2, "width": 16}, "seed": 1}
    with pytest.raises(SpaceError, match="--sample N"):
        build_runs({}, {}, None, {"x": parse_distribution("uniform(0, 1)")}, None)
