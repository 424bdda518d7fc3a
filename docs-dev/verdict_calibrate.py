"""Calibrate the cost model of docs-dev/verdict-protocol.md: seconds per network for stacks shaped
like the protocol (width 64, digits, 20 epochs). Run: PYTHONPATH=$PWD python docs-dev/verdict_calibrate.py
"""
import time
from initreport.runner import make_config, run_stack, group_stacks
for depth in (2, 4, 8, 14, 20):
    configs = [make_config(init=i, activation="relu", dataset="digits", depth=depth, width=64, epochs=20,
                           batch_size=64, lr=lr, momentum=0.9, seeds=tuple(range(8)), checkpoints=())
               for i in ("he_normal", "lecun_normal", "glorot_normal") for lr in (0.01, 0.03)]
    groups = group_stacks(configs)
    t = time.perf_counter()
    for g in groups:
        run_stack(g)
    dt = time.perf_counter() - t
    n = sum(len(c.seeds) for c in configs)
    print(f"depth {depth}: {len(groups)} stack(s), {n} networks, {dt:.2f} s, {dt/n*1000:.1f} ms/network, "
          f"{dt/n/depth/20*1e3:.3f} ms per network-layer-epoch", flush=True)
