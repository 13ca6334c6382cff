"""DistributedDataParallel: two ranks on the gloo backend train the GPT-2-style
model compiled with graphopt and match eager DDP losses step by step."""
import json
import os
import socket
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

STEPS = 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world: int, port: int, out_dir: str, test_dir: str):
    sys.path.insert(0, test_dir)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from torch.nn.parallel import DistributedDataParallel as DDP
        from models import gpt2

        results = {}
        for mode in ("eager", "graphopt"):
            model = DDP(gpt2(seed=0))  # same seed on every rank: same weights
            if mode == "graphopt":
                model = torch.compile(model, backend="graphopt", options={"strict": True})
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
            g = torch.Generator().manual_seed(100 + rank)  # each rank its own data
            losses = []
            for _ in range(STEPS):
                ids = torch.randint(0, 256, (2, 32), generator=g)
                opt.zero_grad()
                loss = model(input_ids=ids, labels=ids).loss
                loss.backward()
                opt.step()
                losses.append(loss.item())
            results[mode] = losses
        import graphopt
        results["graphs"] = len(graphopt.compiled_graphs())
        results["fallbacks"] = sum(s.fallback is not None for s in graphopt.compiled_graphs())
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def test_ddp_two_ranks_match_eager(tmp_path):
    test_dir = os.path.dirname(os.path.abspath(__file__))
    mp.spawn(_rank_main, args=(2, _free_port(), str(tmp_path), test_dir), nprocs=2, join=True)
    for rank in range(2):
        r = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert r["graphs"] > 0 and r["fallbacks"] == 0
        for step, (e, c) in enumerate(zip(r["eager"], r["graphopt"])):
            assert c == pytest.approx(e, rel=1e-4), f"rank {rank} step {step}: eager {e}, graphopt {c}"
    # Gradients are all-reduced: both ranks hold the same parameters, so
    # their losses on different data differ but evolve in lock step with eager.
    assert json.loads((tmp_path / "rank0.json").read_text())["eager"] != \
        json.loads((tmp_path / "rank1.json").read_text())["eager"]
