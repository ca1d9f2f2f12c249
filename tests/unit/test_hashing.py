"""One hashing of data for every key (issue 38, item 2): a masked array's mask is part of the cache key, the
study key and the teaching key, so two data sets that differ only in which entry is missing never share one."""

import hashlib
from types import SimpleNamespace

import numpy as np

from modemean.comparisons.run.cache import cache_key
from modemean.comparisons.run.hashing import hash_data, hash_settings
from modemean.comparisons.studies.study import study_key
from modemean.comparisons.teaching import teaching_key

N = 2000  # more entries than numpy prints in full: str() of both arrays is the same "[0.0 1.0 2.0 ... 1999.0]"


def masked(where: int) -> np.ma.MaskedArray:
    mask = np.zeros(N, dtype=bool)
    mask[where] = True
    return np.ma.masked_array(np.arange(N, dtype=float), mask=mask)


def spec(where: int) -> SimpleNamespace:
    return SimpleNamespace(source=__file__, truth=None, data={"y": masked(where)}, info={})


def digest(add, value) -> str:
    h = hashlib.sha256()
    add(h, value)
    return h.hexdigest()


def test_the_mask_is_hashed_with_the_values():
    assert digest(hash_data, {"y": masked(500)}) != digest(hash_data, {"y": masked(1500)})
    assert digest(hash_data, {"y": masked(500)}) == digest(hash_data, {"y": masked(500)})
    assert digest(hash_data, {"y": masked(500)}) != digest(hash_data, {"y": np.arange(N, dtype=float)})
    assert digest(hash_settings, {"s": [masked(500)]}) != digest(hash_settings, {"s": [masked(1500)]})


def test_two_masks_give_two_cache_keys():
    assert cache_key(spec(500), {"seed": 1}) != cache_key(spec(1500), {"seed": 1})


def test_two_masks_give_two_study_keys():
    assert study_key(spec(500), "prior", {}) != study_key(spec(1500), "prior", {})
    assert study_key(spec(500), "prior", {}) == study_key(spec(500), "prior", {})


def test_two_masks_give_two_teaching_keys():
    assert teaching_key("prior_demo", {"scales": masked(500)}) != teaching_key("prior_demo", {"scales": masked(1500)})
    plain = np.arange(N, dtype=float)
    other = plain.copy()
    other[1000] = -1.0  # a value str() does not print
    assert teaching_key("prior_demo", {"scales": plain}) != teaching_key("prior_demo", {"scales": other})
