"""pytest test of the deliberately broken cy_shared_cache."""

import time

import cy_shared_cache


def test_shared_cache():
    # About a second of calls, so that the interpreters' calls overlap
    # whatever their start-up times.
    for i in range(200):
        time.sleep(0.005)
        assert cy_shared_cache.remember("key-%d" % i) >= 1
