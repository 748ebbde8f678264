"""vqlab's seeded generator (src/init/rng.ts): SplitMix64 seeding a xoshiro128** state, so that
a seed draws the same numbers here as in vqlab (dead-code re-seeding, data subsets)."""
from __future__ import annotations

import math
from typing import List

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


class Rng:
    """xoshiro128** over 32-bit words; every operation masked to 32 bits as JavaScript's are."""

    def __init__(self, seed: float) -> None:
        if not math.isfinite(seed):
            raise ValueError(f"Rng: seed must be a finite number, got {seed}")
        x = math.floor(seed) & _M64

        def split_mix() -> int:
            nonlocal x
            x = (x + 0x9E3779B97F4A7C15) & _M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
            z ^= z >> 31
            return z & _M32

        self.s = [split_mix() for _ in range(4)]
        if not any(self.s):
            self.s[0] = 1

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & _M32, 7) * 9) & _M32
        t = (s1 << 9) & _M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self) -> float:
        """Uniform in [0, 1) with 32 bits of resolution."""
        return self.next_uint32() / 4294967296

    def int(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return math.floor(self.uniform() * n)

    def permutation(self, n: int) -> List[int]:
        """A random permutation of 0..n−1 (Fisher–Yates from the end, as vqlab shuffles)."""
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.int(i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def choose_rows(m: int, k: int, rng: Rng) -> List[int]:
    """k distinct rows of m when m ≥ k (a partial shuffle), else k draws with repetition
    (src/quantizers/kmeans.ts ``chooseRows``)."""
    if m >= k:
        order = list(range(m))
        for i in range(k):
            j = i + rng.int(m - i)
            order[i], order[j] = order[j], order[i]
        return order[:k]
    return [rng.int(m) for _ in range(k)]
