from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from latentatlas.analysis import slice_counts, slice_mask, slice_scan, void_shares


@pytest.fixture(scope="module")
def slice_data():
    rng = np.random.default_rng(9)
    # Most points have 0-3 components beyond b = 1.6, so every case of the subset rule occurs.
    return rng.standard_normal((500, 7))


def test_slice_mask_definition(slice_data):
    Z, b = slice_data, 1.6
    m = slice_mask(Z, (2, 5), b)
    expected = [all(abs(z[j]) <= b for j in range(7) if j not in (2, 5)) for z in Z]
    assert m.tolist() == expected
    assert slice_mask(Z, (5, 2), b).tolist() == expected
    with pytest.raises(ValueError):
        slice_mask(Z, (3, 3), b)
    with pytest.raises(ValueError):
        slice_mask(Z, (0, 7), b)


def test_slice_scan_equals_brute_force(slice_data):
    Z, b = slice_data, 1.6
    scan = slice_scan(Z, b)
    pairs = list(itertools.combinations(range(7), 2))
    assert scan.pairs.tolist() == [list(p) for p in pairs]
    brute = [int(slice_mask(Z, p, b).sum()) for p in pairs]
    assert scan.counts.tolist() == brute
    assert 0 < min(brute) < max(brute) < len(Z)  # a non-trivial case
    assert scan.n_inside == int(np.all(np.abs(Z) <= b, axis=1).sum())
    some = [(6, 1), (0, 3), (2, 4)]
    sub = slice_scan(Z, b, pairs=some)
    assert sub.counts.tolist() == [int(slice_mask(Z, p, b).sum()) for p in some]
    d = scan.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["max"] == max(brute) and d["top_pairs"][0][2] == max(brute)


def test_slice_counts_growing_nested_subsets(slice_data):
    Z, b = slice_data, 1.6
    counts = slice_counts(Z, (0, 1), b, sizes=(100, 250, 1000, 5000), random_state=3)
    assert [c["size"] for c in counts] == [100, 250, 500]  # capped at n, duplicates dropped
    assert counts[-1]["count"] == int(slice_mask(Z, (0, 1), b).sum())
    assert [c["count"] for c in counts] == sorted(c["count"] for c in counts)
    perm = np.random.default_rng(3).permutation(len(Z))
    assert counts[0]["count"] == int(slice_mask(Z[perm[:100]], (0, 1), b).sum())
    assert slice_counts(Z, (0, 1), b, sizes=(100, 250), random_state=3) == counts[:2]


def test_void_shares_fake_equals_real():
    rng = np.random.default_rng(10)
    real = rng.standard_normal((20_000, 5)) @ rng.standard_normal((5, 5))
    res = void_shares(real, real)
    assert res["mahalanobis_tail"] == pytest.approx(0.01, abs=0.001)
    assert res["mahalanobis_tail_real"] == res["mahalanobis_tail"]
    assert res["out_of_range"] == res["out_of_range_real"]
    # Per component 1 % lies outside [0.5 %, 99.5 %]; for one component that is the share.
    one = void_shares(real[:, :1], real[:, :1])
    assert one["out_of_range"] == pytest.approx(0.01, abs=0.001)
    # Independent components: 1 - 0.99^N.
    ind = rng.standard_normal((20_000, 5))
    assert void_shares(ind, ind)["out_of_range"] == pytest.approx(1 - 0.99**5, abs=0.006)
    # A fresh sample of the same distribution: about the same shares.
    fresh = rng.standard_normal((20_000, 5))
    res = void_shares(ind, fresh)
    assert res["mahalanobis_tail"] == pytest.approx(0.01, abs=0.003)
    assert res["out_of_range"] == pytest.approx(1 - 0.99**5, abs=0.01)
    assert res["n_real"] == 20_000 and res["n_fake"] == 20_000
    json.dumps(res, allow_nan=False)


def test_void_shares_far_away_fake():
    rng = np.random.default_rng(11)
    real = rng.standard_normal((2000, 4))
    res = void_shares(real, rng.standard_normal((300, 4)) + 50.0)
    assert res["mahalanobis_tail"] == 1.0 and res["out_of_range"] == 1.0
    with pytest.raises(ValueError, match="dimensions"):
        void_shares(real, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="increasing"):
        void_shares(real, real, range_quantiles=(0.9, 0.1))


def test_void_shares_reuses_model():
    from latentatlas.analysis import MahalanobisModel

    rng = np.random.default_rng(12)
    real, fake = rng.standard_normal((3000, 3)), rng.standard_normal((500, 3)) * 2
    model = MahalanobisModel().fit(real)
    assert void_shares(real, fake, model=model) == void_shares(real, fake)
