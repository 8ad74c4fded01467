"""pytest test of the deliberately broken pb_static_cache."""

import time

import pb_static_cache


def test_static_cache():
    # About a second of calls, so that the interpreters' calls overlap
    # whatever their start-up times.
    for i in range(200):
        time.sleep(0.005)
        assert pb_static_cache.remember("key-%d" % i) >= 1
