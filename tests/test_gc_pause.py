"""gc_paused: no collection while building; what was built to last joins the oldest generation."""

import gc

from auditor.gc_pause import gc_paused


def _generation_of(obj) -> int | None:
    return next((g for g in range(3) if any(o is obj for o in gc.get_objects(g))), None)


def test_what_was_built_joins_the_oldest_generation_and_the_collector_is_restored():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        built = [[]]
    assert gc.isenabled()
    assert _generation_of(built) == 2  # not walked by young collections
    assert gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            built = [[]]
        assert gc.get_freeze_count() >= frozen
        assert _generation_of(built) is None  # frozen with the caller's, unfrozen when the caller says so
    finally:
        gc.unfreeze()
    assert _generation_of(built) == 2


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_a_passing_burst_built_is_left_to_young_collections():
    with gc_paused(keep_built=False):
        built = [[]]
    assert gc.isenabled()
    assert _generation_of(built) == 0  # freed by the next young collection once dropped
