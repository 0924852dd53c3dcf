"""Long series are downsampled from a min/max block index (issue 11: 10,000,000 points
drawn in under a second); spikes survive every window, zoomed or not."""

import numpy as np

from sacredlite.store.series import BLOCK, Series


def test_block_index_keeps_spikes_and_agrees_with_the_plain_buckets():
    n = 4_000_000
    values = np.sin(np.arange(n) / 3000.0)
    values[123_457] = 40.0
    values[3_333_333] = -40.0
    values[2_000_001] = np.nan
    series = Series(np.arange(n), values)
    whole = series.window(points=1000)
    assert len(whole["steps"]) <= 1000 and whole["total"] == n and whole["downsampled"]
    assert 123_457 in whole["steps"] and 3_333_333 in whole["steps"]
    assert whole["steps"][0] == 0 and whole["steps"][-1] == n - 1
    assert whole["steps"] == sorted(whole["steps"])
    zoom = series.window(100_000, 3_000_000, points=500)
    assert 123_457 in zoom["steps"] and 3_333_333 not in zoom["steps"]
    assert zoom["total"] == 2_900_001 and zoom["steps"][0] == 100_000
    assert zoom["steps"][-1] == 3_000_000
    # the same window without the index (fewer points than 4 blocks per bucket) has the
    # same extremes
    plain = Series(np.arange(n), values).window(100_000, 100_000 + 3 * BLOCK * 250, 500)
    indexed = series.window(100_000, 100_000 + 3 * BLOCK * 250, 500)
    assert max(v for v in plain["values"] if v is not None) == 40.0
    assert max(v for v in indexed["values"] if v is not None) == 40.0


def test_block_index_follows_a_growing_series():
    series = Series(np.arange(3_000_000), np.zeros(3_000_000))
    series.window(points=200)
    series.extend([3_000_000], [99.0])
    assert 99.0 in series.window(points=200)["values"]
