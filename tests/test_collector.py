"""jianfu.collector.frozen: what was loaded before long work is left out of the collector's passes,
and the caller's own freeze is not undone."""

from __future__ import annotations

import gc

import pytest

from jianfu.collector import frozen


@pytest.fixture(autouse=True)
def _nothing_frozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_loaded_before_are_frozen_during_the_block_and_released_after():
    # Arrange
    loaded_before = [{"a": [1]} for _ in range(1000)]

    # Act
    with frozen():
        during = gc.get_freeze_count()
    after = gc.get_freeze_count()

    # Assert
    assert during >= len(loaded_before)
    assert after == 0


def test_a_freeze_of_the_caller_stands_after_the_block():
    # Arrange: as Airflow's executors freeze before they fork
    gc.freeze()
    frozen_by_caller = gc.get_freeze_count()

    # Act
    with frozen():
        pass

    # Assert
    assert gc.get_freeze_count() >= frozen_by_caller > 0


def test_the_block_releases_what_it_froze_when_it_fails():
    with pytest.raises(RuntimeError), frozen():
        raise RuntimeError("a build that fails")
    assert gc.get_freeze_count() == 0
