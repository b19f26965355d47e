r"""Regenerable noise: random streams addressed by ``(seed, block)``.

Distributed evolution strategies (Salimans et al., 2017) never ship noise
arrays between machines. Every perturbation is drawn from a stream that any
machine can rebuild from a few integers, so workers exchange seeds and scalar
fitness values, and the noise is regenerated wherever it is needed.

:func:`block_rng` returns the stream of block ``j`` of a seed. It is built
directly from ``(seed, j)``, as numpy's own :meth:`~numpy.random.SeedSequence.spawn`
builds child ``j``:

.. code-block:: python

    block_rng(seed, j)  ==  np.random.default_rng(np.random.SeedSequence(seed).spawn(j + 1)[j])

(the two generators produce the same draws), but without creating the
children before ``j`` and without any state shared between blocks. Block
``j`` is therefore the same on every machine, in every process and whatever
blocks were drawn before it, and different blocks are independent streams
(``SeedSequence`` hashes the spawn key into the generator's state; see
numpy's "Parallel random number generation").

A block key may also be a tuple of non-negative integers, e.g.
``block_rng(seed, (generation, worker))``: tuples address a tree of streams
(``(g, j)`` is child ``j`` of child ``g``), and distinct keys give distinct
streams.

>>> import numpy as np
>>> from scorefast.noise import block_rng
>>> a = block_rng(7, 3).standard_normal(4)        # on a worker
>>> b = block_rng(7, 3).standard_normal(4)        # on the driver, later
>>> bool(np.array_equal(a, b))
True
"""
import numbers

import numpy as np

__all__ = ["block_seed", "block_rng", "block_normal"]


def _as_key(block):
    """A block key as a tuple of non-negative Python ints."""
    parts = block if isinstance(block, tuple) else (block,)
    key = []
    for p in parts:
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Integral, np.integer)):
            raise TypeError("block must be a non-negative integer or a tuple of them, "
                            f"got {block!r}")
        p = int(p)
        if p < 0:
            raise ValueError(f"block indices must be non-negative, got {block!r}")
        key.append(p)
    if not key:
        raise ValueError("block must not be an empty tuple")
    return tuple(key)


def block_seed(seed, block):
    """The :class:`numpy.random.SeedSequence` of block ``block`` of ``seed``.

    Parameters
    ----------
    seed : int >= 0 or numpy.random.SeedSequence
        The root seed. A ``SeedSequence`` contributes its entropy, spawn key
        and pool size (its count of children already spawned is ignored, so
        the result depends on nothing but the arguments).
    block : int >= 0 or tuple of int >= 0
        The block index (or a path of indices).

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(entropy=seed, spawn_key=key)``: the child that
        ``SeedSequence(seed).spawn`` would return at position ``block``.
    """
    key = _as_key(block)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(entropy=seed.entropy, spawn_key=tuple(seed.spawn_key) + key,
                                      pool_size=seed.pool_size)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.SeedSequence(entropy=seed, spawn_key=key)


def block_rng(seed, block, bit_generator=np.random.PCG64):
    """A fresh :class:`numpy.random.Generator` for block ``block`` of ``seed``.

    The same ``(seed, block)`` gives the same draws on any machine, without
    drawing the blocks before it. Pass the result as ``rng=`` to any
    scorefast ``sample`` method.

    Parameters
    ----------
    seed : int >= 0 or numpy.random.SeedSequence
    block : int >= 0 or tuple of int >= 0
    bit_generator : numpy BitGenerator class, default ``numpy.random.PCG64``
        (numpy's default, as in ``np.random.default_rng``).

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.Generator(bit_generator(block_seed(seed, block)))


def block_normal(seed, block, shape, dtype=np.float64):
    """Standard normal noise for block ``block`` of ``seed``.

    Parameters
    ----------
    seed : int >= 0 or numpy.random.SeedSequence
    block : int >= 0 or tuple of int >= 0
    shape : int or tuple of int
    dtype : float64 or float32

    Returns
    -------
    ndarray
        ``block_rng(seed, block).standard_normal(shape, dtype)``.
    """
    return block_rng(seed, block).standard_normal(shape, dtype=dtype)
