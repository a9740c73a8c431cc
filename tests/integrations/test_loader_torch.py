"""exzarr.integrations.torch: the worker split is tested without torch; the real
IterableDataset in a DataLoader runs when torch is installed."""

from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import ShapeMismatchError
from exzarr.integrations.torch import LoaderDataset, worker_split


class FakeWorker(LoaderDataset):
    """The adapter as one DataLoader worker sees it (torch's get_worker_info())."""

    info: tuple[int, int] | None = None

    def worker_info(self):
        return self.info


def _as_worker(ds: LoaderDataset, wid: int, nw: int) -> FakeWorker:
    w = FakeWorker.__new__(FakeWorker)
    w.__dict__.update(ds.__dict__)    # what fork (or a persistent worker's copy) gives
    w.info = (wid, nw)
    return w


def test_importing_the_adapter_does_not_import_torch():
    assert "torch" not in sys.modules or pytest.skip("torch already imported")


def test_worker_split():
    assert worker_split(0, 1, 0, 1) == (0, 1)
    assert worker_split(1, 2, 2, 3) == (5, 6)
    with pytest.raises(ValueError):
        worker_split(0, 1, 3, 3)


@pytest.mark.parametrize("mode", [False, "chunks", True])
@pytest.mark.parametrize("world,nw", [(1, 1), (1, 3), (2, 2)])
def test_workers_and_ranks_see_every_sample_once(mode, world, nw):
    z = ez.create("memory://torchsplit", shape=(1000, 3), chunks=(64, 3), dtype="i8",
                  overwrite=True)
    z[:] = np.arange(3000).reshape(1000, 3)
    for epoch in range(2):
        seen, counts = [], set()
        for rank in range(world):
            ds = FakeWorker((z, z[:, 0]), 50, shuffle=mode, seed=3, rank=rank,
                            world_size=world, num_workers=nw)
            ds.set_epoch(epoch)
            total = 0
            for wid in range(nw):
                w = _as_worker(ds, wid, nw)
                batches = list(w)
                assert len(batches) == len(w)
                counts.add(len(batches))
                total += len(batches)
                for x, y in batches:
                    np.testing.assert_array_equal(x[:, 0], y)
                    seen.append(y // 3)
            assert total == len(ds)          # len() counts every worker's batches
        assert len(counts) == 1              # equal batch counts everywhere
        assert sorted(np.concatenate(seen).tolist()) == list(range(1000))


def test_workers_share_one_seed_even_without_one():
    ds = FakeWorker(np.arange(100), 10, shuffle=True, num_workers=2)
    a = np.concatenate(list(_as_worker(ds, 0, 2)) + list(_as_worker(ds, 1, 2)))
    assert sorted(a.tolist()) == list(range(100))


def test_mismatched_worker_count_and_bad_split_raise():
    ds = FakeWorker(np.arange(100), 10, num_workers=2)
    with pytest.raises(ValueError, match="num_workers=2 but runs in a DataLoader with"):
        iter(_as_worker(ds, 0, 3))
    with pytest.raises(ShapeMismatchError):
        FakeWorker(np.arange(5), 1, num_workers=4)


def test_torch_dataloader_with_workers():
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from exzarr.integrations.torch import iterable_dataset

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    z = ez.create("memory://torchdl", shape=(600, 4), chunks=(50, 4), dtype="f4",
                  overwrite=True)
    z[:] = np.arange(2400, dtype="f4").reshape(600, 4)
    ds = iterable_dataset(z, 32, shuffle="chunks", seed=0, num_workers=2)
    assert isinstance(ds, torch.utils.data.IterableDataset)
    dl = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
    for epoch in range(2):
        ds.set_epoch(epoch)
        batches = list(dl)
        assert len(batches) == len(dl) == len(ds)
        assert all(isinstance(b, torch.Tensor) for b in batches)
        rows = torch.cat(batches)[:, 0].numpy() // 4
        assert sorted(rows.tolist()) == list(range(600))
    # xp=torch: batches handed over through DLPack
    for b in ez.loader(z, 100, xp=torch):
        assert isinstance(b, torch.Tensor)
