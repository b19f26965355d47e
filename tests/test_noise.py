"""Regenerable noise: block j of a seed from (seed, j) alone."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import scorefast as sf
from scorefast.noise import block_normal, block_rng, block_seed


@pytest.mark.parametrize("seed", [0, 12345, 2**70 + 3])
@pytest.mark.parametrize("j", [0, 1, 7])
def test_block_is_numpys_spawned_child(seed, j):
    """block_rng(seed, j) is the j-th child SeedSequence(seed).spawn makes."""
    child = np.random.SeedSequence(seed).spawn(j + 1)[j]
    expected = np.random.default_rng(child).random(6)
    np.testing.assert_array_equal(block_rng(seed, j).random(6), expected)
    assert block_seed(seed, j).spawn_key == (j,)


def test_block_does_not_depend_on_other_blocks():
    alone = block_rng(99, 5).standard_normal(1000)
    # draw every block before it, interleaved, and block 5 itself twice
    gens = [block_rng(99, j) for j in range(8)]
    for _ in range(3):
        for g in gens:
            g.standard_normal(17)
    np.testing.assert_array_equal(block_rng(99, 5).standard_normal(1000), alone)
    np.testing.assert_array_equal(block_normal(99, 5, 1000), alone)


def test_block_regenerated_in_another_process():
    """'Any machine': a fresh interpreter rebuilds the block from (seed, j)."""
    code = ("from scorefast.noise import block_rng;"
            "print(block_rng(2024, 3).standard_normal(16).tobytes().hex())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == block_rng(2024, 3).standard_normal(16).tobytes().hex()


def test_distinct_keys_give_distinct_streams():
    keys = [(s, j) for s in (0, 1, 2) for j in range(50)]
    keys += [(0, (g, j)) for g in range(3) for j in range(3)]
    firsts = {block_rng(s, j).integers(0, 2**63, size=2).tobytes() for s, j in keys}
    assert len(firsts) == len(keys)
    # an int index and a one-element tuple are the same key
    np.testing.assert_array_equal(block_rng(4, 3).random(3), block_rng(4, (3,)).random(3))
    # a tuple key is child j of child g, as SeedSequence.spawn builds it
    child = np.random.SeedSequence(4).spawn(3)[2].spawn(6)[5]
    np.testing.assert_array_equal(block_rng(4, (2, 5)).random(3),
                                  np.random.default_rng(child).random(3))


def test_blocks_look_independent():
    """Block means are N(0, 1/m) and neighbouring blocks uncorrelated:
    bounds at five standard errors of the statistic."""
    m, k = 2000, 200
    x = np.stack([block_normal(7, j, m) for j in range(k)])
    z = x.mean(axis=1) * np.sqrt(m)                 # k draws of N(0, 1)
    chi2 = float(np.sum(z * z))                     # chi^2 with k degrees of freedom
    assert abs(chi2 - k) < 5 * np.sqrt(2 * k)
    r = np.einsum("ij,ij->i", x[:-1], x[1:]) / m    # lag-one block correlations ~ N(0, 1/m)
    assert abs(r.mean()) < 5 / np.sqrt(m * (k - 1))
    assert abs(np.mean(r * r) * m - 1.0) < 5 * np.sqrt(2 / (k - 1))


def test_seed_sequence_root():
    np.testing.assert_array_equal(block_rng(np.random.SeedSequence(7), 3).random(4),
                                  block_rng(7, 3).random(4))
    root = np.random.SeedSequence(7, spawn_key=(2,))
    np.testing.assert_array_equal(block_rng(root, 3).random(4), block_rng(7, (2, 3)).random(4))
    # what the root spawned before does not matter
    root.spawn(5)
    np.testing.assert_array_equal(block_rng(root, 3).random(4), block_rng(7, (2, 3)).random(4))


def test_numpy_integer_keys_and_dtype():
    np.testing.assert_array_equal(block_rng(np.int64(3), np.uint8(2)).random(3),
                                  block_rng(3, 2).random(3))
    x = block_normal(3, 2, (4, 5), dtype=np.float32)
    assert x.dtype == np.float32 and x.shape == (4, 5)
    np.testing.assert_array_equal(x, block_rng(3, 2).standard_normal((4, 5), dtype=np.float32))


def test_bit_generator_choice():
    g = block_rng(3, 1, bit_generator=np.random.Philox)
    assert isinstance(g.bit_generator, np.random.Philox)
    np.testing.assert_array_equal(
        g.random(3), np.random.Generator(np.random.Philox(block_seed(3, 1))).random(3))


@pytest.mark.parametrize("seed, block, err", [
    (-1, 0, ValueError), (1.5, 0, TypeError), (True, 0, TypeError), ("1", 0, TypeError),
    (1, -1, ValueError), (1, 2.0, TypeError), (1, False, TypeError), (1, (), ValueError),
    (1, (1, -2), ValueError), (1, [1, 2], TypeError),
])
def test_bad_arguments(seed, block, err):
    with pytest.raises(err):
        block_rng(seed, block)


def test_scorefast_samples_regenerate():
    """Worker and driver draw the same perturbations from (seed, j)."""
    dist = sf.DiagNormal(np.zeros(6), 0.5)
    a = dist.sample(10, rng=block_rng(11, 4), antithetic=True)
    b = dist.sample(10, rng=block_rng(11, 4), antithetic=True)
    np.testing.assert_array_equal(a, b)
    cat = sf.Categorical(np.zeros((2, 3)))
    np.testing.assert_array_equal(cat.sample(50, rng=block_rng(11, 4)),
                                  cat.sample(50, rng=block_rng(11, 4)))
    # a generator built here pickles, and carries on the same stream
    g = block_rng(11, 4)
    g.random(3)
    h = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(g.random(5), h.random(5))
